"""The classic message-passing network (Kipf & Welling's GCN, Velickovic et al.'s GAT, GraphSAGE):
a plain stack of local blocks with an activation and dropout between them, and no residuals,
norms, FFNs or global mixer. Published citation-graph baselines are this model; the GPS layer's
residual + FFN around the same block trains differently on their 140 labelled nodes (see
recipes/README.md, Cora and CiteSeer).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import Tensor, nn
from torch_geometric.data import Batch

from graphformers.errors import PartOptionError
from graphformers.models.base import GraphModel
from graphformers.models.gps import POOLS
from graphformers.models.parts import (
    build_edge_features,
    build_feature,
    build_head,
    build_local,
    edge_features,
    model_options,
)
from graphformers.nn.dropout import Dropout
from graphformers.nn.norms import make_norm
from graphformers.nn.virtual_node import VirtualNode
from graphformers.recipe import ModelConfig, is_absent
from graphformers.registry import register_model
from graphformers.task import TaskInfo

ACTIVATIONS = {"relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU}


@dataclass(frozen=True)
class MPNNOptions:
    """The plain message-passing stack's ``model.options``.

    Args:
        activation (str, optional): after every block: ``relu`` (GCN, SAGE), ``elu`` (GAT) or ``gelu``.
            (default: :obj:`"relu"`)
    """

    activation: Literal["relu", "elu", "gelu"] = "relu"


@register_model("mpnn")
class MPNNModel(GraphModel):
    """Encoder -> ``layers`` x (dropout -> local block -> norm -> activation) -> dropout -> head.

    ``h^(0) = input_dropout(encoder(x))`` and
    ``h^(l+1) = act(norm(block_l(dropout(h^(l)), edge_index, edge_attr)))`` for ``l > 0``
    (the first block reads ``h^(0)`` as it is); node-level tasks read ``head(dropout(h^(L)))``,
    graph-level ones pool first. Edge features are encoded as in the GPS model (a learned constant
    where the dataset has none); blocks that update them pass them on.

    Args:
        config (ModelConfig): ``hidden``, ``layers``, ``local`` (required), ``dropout``,
            ``input_dropout``, ``norm`` (``none`` for the classic models), ``pool``, the node and
            edge feature encoders, and ``options`` (:class:`MPNNOptions`); a block's heads are its
            own option.
        info (TaskInfo): the dataset's task.
    """

    options_type = MPNNOptions
    reads = ("hidden", "layers", "local", "node_encoder", "edge_encoder", "dropout", "input_dropout", "norm", "pool",
             "virtual_node")

    def __init__(self, config: ModelConfig, info: TaskInfo) -> None:
        super().__init__(config, info)
        options = model_options(MPNNOptions, config.options, "mpnn")
        if is_absent(config.local):
            raise PartOptionError("mpnn is a stack of local blocks, but model.local is none or not set; name one, e.g. "
                                  "model.local=gcn.")
        hidden = config.hidden
        self.level = info.level
        self.node_encoder = build_feature(config.node_encoder or info.node_encoder, info.node_in, hidden)
        self.edge_encoder, self.edge_vector = build_edge_features(config, info, hidden)
        self.blocks = nn.ModuleList(build_local(config.local, hidden) for _ in range(config.layers))
        self.norms = nn.ModuleList(make_norm(config.norm, hidden) for _ in range(config.layers))
        self.activation = ACTIVATIONS[options.activation]()
        self.input_dropout = Dropout(config.input_dropout)
        self.dropout = Dropout(config.dropout)
        self.pool = POOLS[config.pool]
        self.virtual_node = VirtualNode(hidden, config.layers, config.dropout) if config.virtual_node else None
        self.head = build_head(info, hidden)

    def forward(self, data: Batch, chunk: int | None = None) -> Tensor:
        """``[N, num_outputs]`` (node level), ``[num_graphs, num_outputs]`` (graph level) or ``[N, hidden]``
        node embeddings (link level) for a PyG ``Batch`` (a single ``Data`` is a batch of one)."""
        if not isinstance(data, Batch):
            data = Batch.from_data_list([data])
        x = self.input_dropout(self.node_encoder(data.x))
        edge_attr = edge_features(data, self.edge_encoder, self.edge_vector)
        virtual = self.virtual_node
        state = virtual.initial(data.num_graphs) if virtual is not None else None
        for index, (block, norm) in enumerate(zip(self.blocks, self.norms, strict=True)):
            if virtual is not None:
                x = virtual.join(x, state, data.batch)
                if index < len(self.blocks) - 1:
                    state = virtual.update(index, x, state, data.batch)
            out = block(x if index == 0 else self.dropout(x), block.edges_of(data), edge_attr)
            if block.updates_edges:
                out, edge_attr = out
            x = self.activation(norm(out))
        if self.level == "graph":
            x = self.pool(x, data.batch, size=data.num_graphs)
        return self.head(self.dropout(x))
