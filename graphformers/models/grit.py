"""GRIT (Ma et al. 2023): a graph transformer without message passing, attending over all node pairs
with learned relative random-walk encodings that each layer updates."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform
from torch_geometric.utils import degree

from graphformers.errors import GraphTooLargeError, PartOptionError
from graphformers.layers.grit import GRITLayer
from graphformers.models.base import GraphModel
from graphformers.models.gps import POOLS
from graphformers.models.parts import (
    build_edge_features,
    build_feature,
    build_head,
    build_pair_encodings,
    build_positional,
    edge_features,
    model_options,
)
from graphformers.pair_encodings.all_pairs import all_pairs_of, pair_values
from graphformers.pair_encodings.value_encoder import PairValueEncoder
from graphformers.recipe import ModelConfig
from graphformers.registry import register_model
from graphformers.task import TaskInfo

PAIR_FLOATS_PER_LAYER = 12
"""About the ``hidden``-wide float tensors per pair that one GRIT layer keeps for its backward pass."""


@dataclass(frozen=True)
class GRITOptions:
    """GRIT's ``model.options``.

    Args:
        pair_encoding (str, optional): the ``model.pair_encodings`` entry the pair states start from
            (GRIT: ``rrwp``) (default: :obj:`"rrwp"`)
        clamp (float, optional): attention scores are clamped to ``[-clamp, clamp]`` (``gt.attn.clamp``) (default:
            :obj:`5.0`)
        degree_scaler (bool, optional): scale attention outputs by learned functions of ``log(1 + degree)``
            (``gt.attn.deg_scaler``) (default: :obj:`True`)
        update_pairs (bool, optional): each layer passes its updated pair states on (``gt.update_e``) (default:
            :obj:`True`)
        max_nodes (int, optional): largest graph accepted; its ``N^2`` pair states per layer are refused
            above it, with the memory they would take (default: :obj:`3000`)
        head (str, optional): the prediction head: ``mlp``, the toolkit's 2-layer MLP; ``linear``, one
            linear map (GRIT's Peptides-func head, GraphGym's with ``layers_post_mp: 1``); ``halving``,
            ``hidden -> hidden/2 -> hidden/4 -> outputs`` with ReLUs (GRIT's ZINC head, ``san_graph``)
            (default: :obj:`"mlp"`)
    """

    pair_encoding: str = "rrwp"
    clamp: float = 5.0
    degree_scaler: bool = True
    update_pairs: bool = True
    max_nodes: int = 3000
    head: Literal["mlp", "linear", "halving"] = "mlp"


def _head(kind: str, info: TaskInfo, hidden: int) -> nn.Module:
    """The head ``kind`` names (:class:`GRITOptions`), ``hidden`` wide in; link tasks always get the toolkit's."""
    outputs = info.num_outputs * info.sequence_length
    if kind == "mlp" or info.level == "link":
        return build_head(info, hidden)
    if kind == "linear":
        return nn.Linear(hidden, outputs)
    if kind == "halving":
        return nn.Sequential(nn.Linear(hidden, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, hidden // 4), nn.ReLU(),
                             nn.Linear(hidden // 4, outputs))
    raise PartOptionError(f"grit: model.options.head must be mlp, linear or halving, got {kind!r}.")


@register_model("grit")
class GRITModel(GraphModel):
    """Encoders -> ``layers`` x :class:`~graphformers.layers.grit.GRITLayer` -> head (pooled for graph tasks).

    Node states start as the node features' embedding plus a bias-free linear map of the pair
    encoding's diagonal (for RRWP: the identity and RWSE), concatenated with any ``model.encoders``;
    pair states, on every ordered pair of each graph, as a bias-free linear map of the pair encoding
    (an embedding for categorical ones, such as ``spd``) plus the edge features' embedding on edges.
    GRIT has no local message passing and no separate mixer (it reads neither ``model.local`` nor
    ``model.mixer``). As in LiamMa/GRIT, attention and pair updates run on the list of pairs.

    Args:
        config (ModelConfig): ``hidden``, ``layers``, ``heads``, ``dropout``, ``attn_dropout``, ``norm``,
            ``ffn_ratio``, ``pool``, ``encoders``, ``pair_encodings``, the node and edge feature
            encoders and ``options`` (:class:`GRITOptions`).
        info (TaskInfo): the dataset's task.
    """

    options_type = GRITOptions
    reads = ("hidden", "layers", "heads", "encoders", "pair_encodings", "node_encoder", "edge_encoder", "dropout",
             "attn_dropout", "norm", "ffn_ratio", "pool")

    def __init__(self, config: ModelConfig, info: TaskInfo) -> None:
        super().__init__(config, info)
        options = model_options(GRITOptions, config.options, "grit")
        self.pair_encodings = build_pair_encodings(config.pair_encodings)
        if options.pair_encoding not in self.pair_encodings:
            raise PartOptionError(f"grit starts its pair states from the pair encoding {options.pair_encoding!r} "
                                  f"(model.options.pair_encoding), which model.pair_encodings does not list; add "
                                  f"{{name: {options.pair_encoding}}} there.")
        self.options, self.level, self.hidden = options, info.level, config.hidden
        self.encoding = self.pair_encodings[options.pair_encoding]
        self.positional = nn.ModuleList(build_positional(spec) for spec in config.encoders)
        feature_dim = config.hidden - sum(encoder.dim for encoder in self.positional)
        if feature_dim <= 0:
            raise PartOptionError(f"the positional encoders' dims leave no room in model.hidden ({config.hidden}).")
        self.node_encoder = build_feature(config.node_encoder or info.node_encoder, info.node_in, feature_dim)
        self.pair_encoder = PairValueEncoder(self.encoding, config.hidden, bias=False)
        self.diagonal_encoder = (None if self.pair_encoder.categorical
                                 else nn.Linear(self.encoding.channels, feature_dim, bias=False))
        if self.diagonal_encoder is not None:
            for linear in (self.pair_encoder.map, self.diagonal_encoder):
                nn.init.xavier_uniform_(linear.weight)
        self.edge_encoder, _ = build_edge_features(config, info, config.hidden)
        self.layers = nn.ModuleList(
            GRITLayer(config.hidden, config.heads, config.dropout, config.attn_dropout, config.norm, config.ffn_ratio,
                      options.clamp, options.degree_scaler, options.update_pairs)
            for _ in range(config.layers))
        self.pool = POOLS[config.pool]
        self.head = _head(options.head, info, config.hidden)

    def precompute_transforms(self) -> list[BaseTransform]:
        """The positional encoders' transforms and the pair encodings."""
        return [encoder.precompute() for encoder in self.positional] + list(self.pair_encodings.values())

    def compile_for_training(self) -> None:
        """Compile each layer (``torch.compile``, dynamic shapes): its elementwise passes over the
        ``[P, hidden]`` pair states fuse: a Peptides-func training step on 2 CPU cores, batches of 4,
        went from 4.55 s to 2.48 s (1.83x) and, another day, 5.31 s to 3.33 s (1.60x; ``python -m
        graphformers.bench step --sets peptides-func-grit --compare train.compile=true``); the first
        step compiles, ~45 s."""
        for layer in self.layers:
            layer.compile(dynamic=True)

    def check_graph_size(self, num_nodes: int) -> None:
        """Refuse graphs above ``options.max_nodes``: each layer keeps ``N^2`` pair states."""
        if num_nodes > self.options.max_nodes:
            needed = num_nodes ** 2 * self.hidden * 4 * PAIR_FLOATS_PER_LAYER * len(self.layers)
            raise GraphTooLargeError(
                f"grit on a graph of {num_nodes:,} nodes: {num_nodes ** 2:,} pair states of {self.hidden} floats per "
                f"layer, about {needed / 2**30:,.0f} GiB for training. Use a linear mixer (model gps with mixer "
                f"performer, exphormer or polynormer), or raise model.options.max_nodes ({self.options.max_nodes:,}).")

    def forward(self, data: Batch, chunk: int | None = None) -> Tensor:
        """``[num_graphs, outputs]`` (graph level) or ``[N, outputs]`` (node level) for a PyG ``Batch``
        (a single ``Data`` is treated as a batch of one)."""
        if not isinstance(data, Batch):
            data = Batch.from_data_list([data])
        plan = all_pairs_of(data)
        values = pair_values(data, self.encoding, plan)  # [P, channels]
        pairs, x = self.pair_encoder(values), self.node_encoder(data.x)
        if self.diagonal_encoder is not None:
            x = x + self.diagonal_encoder(values[plan.diagonal()])
        if self.edge_encoder is not None:
            edges = edge_features(data, self.edge_encoder, None).to(pairs.dtype)  # autocast: a linear map's dtype
            pairs = pairs.index_add(0, plan.positions(data.edge_index), edges)
        x = torch.cat([x] + [encoder(data) for encoder in self.positional], dim=-1)
        log_degree = torch.log1p(degree(data.edge_index[0], x.size(0), dtype=x.dtype)).unsqueeze(-1)
        for layer in self.layers:
            x, pairs = layer(x, pairs, plan.index, log_degree)
        if self.level == "graph":
            x = self.pool(x, data.batch, size=data.num_graphs)
        return self.head(x)
