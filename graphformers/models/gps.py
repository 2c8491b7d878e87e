"""The GPS graph transformer (Rampasek et al. 2022) for graph- and node-level prediction."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool
from torch_geometric.transforms import BaseTransform

from graphformers.errors import PartOptionError
from graphformers.layers.gps import GPSLayer
from graphformers.models.base import GraphModel
from graphformers.models.parts import (
    build_edge_features,
    build_feature,
    build_head,
    build_local,
    build_mixer,
    build_ordering,
    build_pair_encodings,
    build_positional,
    edge_features,
)
from graphformers.nn.dropout import Dropout
from graphformers.nn.virtual_node import VirtualNode
from graphformers.recipe import ModelConfig, PartSpec
from graphformers.registry import register_model
from graphformers.task import TaskInfo

POOLS = {"mean": global_mean_pool, "sum": global_add_pool, "max": global_max_pool}


@register_model("gps")
class GPSModel(GraphModel):
    """Encoders -> ``layers`` x GPS layer -> per-node head, or pooling + head for graph-level tasks
    (for link-level tasks, a linear map to node embeddings whose dot products score pairs).

    Node features are embedded to ``hidden - sum(pe dims)`` channels and concatenated with
    the positional encodings (GraphGPS's scheme), so the width stays ``hidden`` throughout.

    Args:
        config (ModelConfig): the recipe's ``model`` section (every key is read; ``local`` and
            ``mixer`` left ``null`` are gine and full attention).
        info (TaskInfo): the dataset's task.
    """

    chunked_inference = True
    reads = ("hidden", "layers", "heads", "local", "mixer", "ordering", "encoders", "pair_encodings", "node_encoder",
             "edge_encoder", "dropout", "input_dropout", "attn_dropout", "norm", "ffn_ratio", "pool", "virtual_node")
    defaults = {"local": PartSpec("gine"), "mixer": PartSpec("full")}

    def __init__(self, config: ModelConfig, info: TaskInfo) -> None:
        super().__init__(config, info)
        config = self.resolved(config)
        self.level = info.level
        self.positional = nn.ModuleList(build_positional(spec) for spec in config.encoders)
        pe_dims = sum(encoder.dim for encoder in self.positional)
        if pe_dims >= config.hidden:
            raise PartOptionError(
                f"the positional encoders' dims add up to {pe_dims}, which leaves no room in model.hidden "
                f"({config.hidden}) for the node features; raise model.hidden or lower their dim.")
        feature_dim = config.hidden - pe_dims
        self.node_encoder = build_feature(config.node_encoder or info.node_encoder, info.node_in, feature_dim)
        self.edge_encoder, self.edge_vector = build_edge_features(config, info, config.hidden)
        self.layers = nn.ModuleList(
            GPSLayer(config.hidden, build_local(config.local, config.hidden),
                     build_mixer(config.mixer, config.hidden, config.heads, config.attn_dropout),
                     config.dropout, config.norm, config.ffn_ratio)
            for _ in range(config.layers)
        )
        self.pair_encodings = build_pair_encodings(config.pair_encodings)
        self.ordering = build_ordering(config.ordering)
        mixers = [layer.mixer for layer in self.layers if layer.mixer is not None]
        if self.ordering is not None and not mixers:
            raise PartOptionError("model.ordering is set, but the model has no global mixer to read it; remove it.")
        for mixer in mixers:
            mixer.use_pair_encodings(self.pair_encodings)
            mixer.use_ordering(self.ordering)
        self.input_dropout = Dropout(config.input_dropout)
        self.pool = POOLS[config.pool]
        self.virtual_node = VirtualNode(config.hidden, config.layers, config.dropout) if config.virtual_node else None
        self.head = build_head(info, config.hidden)

    def precompute_transforms(self) -> list[BaseTransform]:
        """Transforms that store what the positional encoders, the pair encodings, the ordering and the mixer read from
        each graph. Every layer's mixer has the same configuration, so the first layer's transform serves all."""
        transforms = [encoder.precompute() for encoder in self.positional] + list(self.pair_encodings.values())
        ordering_transform = self.ordering.precompute() if self.ordering is not None else None
        transforms += [ordering_transform] if ordering_transform is not None else []
        mixer = self.layers[0].mixer
        mixer_transform = mixer.precompute() if mixer is not None else None
        return transforms + ([mixer_transform] if mixer_transform is not None else [])

    def compile_for_training(self) -> None:
        """Refused: compiling the GPS layers made a Peptides-func training step 2x slower on the CPU
        (0.36 s to 0.71 s, batches of 32): attention runs one block per size group, the groups
        change with every batch, and each change recompiles until PyTorch gives up on the frame."""
        raise PartOptionError("train.compile: gps is not compiled: torch.compile made its training step 2x slower "
                              "(measured on Peptides-func: its size blocks change with every batch, and each change "
                              "recompiles); set train.compile: false.")

    def check_graph_size(self, num_nodes: int) -> None:
        """Raise if a graph of ``num_nodes`` nodes is beyond the mixer (before any training)."""
        for layer in self.layers:
            if layer.mixer is not None:
                layer.mixer.check_graph_size(num_nodes)

    def forward(self, data: Batch, chunk: int | None = None) -> Tensor:
        """Returns ``[num_graphs, num_outputs]`` for graph-level (``[num_graphs, sequence_length * num_outputs]``
        for sequence tasks), ``[N, num_outputs]`` for node-level and
        ``[N, hidden]`` node embeddings for link-level tasks. ``chunk``: full-graph inference, layer
        by layer with each local block on ``chunk`` target nodes at a time (see
        :func:`~graphformers.layers.gps.local_in_chunks`).
        ``data`` is a PyG ``Batch``; a single ``Data`` is treated as a batch of one."""
        if not isinstance(data, Batch):
            data = Batch.from_data_list([data])
        x = torch.cat([self.node_encoder(data.x)] + [encoder(data) for encoder in self.positional], dim=-1)
        x = self.input_dropout(x)
        edge_attr = edge_features(data, self.edge_encoder, self.edge_vector)
        virtual = self.virtual_node
        state = virtual.initial(data.num_graphs) if virtual is not None else None
        for index, layer in enumerate(self.layers):
            if virtual is not None:
                x = virtual.join(x, state, data.batch)
                if index < len(self.layers) - 1:
                    state = virtual.update(index, x, state, data.batch)
            x, edge_attr = layer(x, edge_attr, data, chunk)
        if self.level == "graph":
            x = self.pool(x, data.batch, size=data.num_graphs)
        return self.head(x)

