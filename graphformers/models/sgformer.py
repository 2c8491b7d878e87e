"""SGFormer as its authors built it (Wu et al. 2023, "SGFormer: Simplifying and Empowering
Transformers for Large-Graph Representations"; qitianwu/SGFormer ``large/ours.py``): one layer of
simplified global attention beside a GCN, their outputs averaged.

The GPS model can also use SGFormer's attention as a mixer (``mixer: sgformer``) in every layer;
this model keeps the paper's two branches.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.nn import GCNConv

from graphformers.errors import PartOptionError, check_positive
from graphformers.mixers.sgformer import SGFormerAttention
from graphformers.models.base import GraphModel
from graphformers.models.parts import build_feature, model_options, require_node_level
from graphformers.nn.dropout import Dropout
from graphformers.recipe import ModelConfig
from graphformers.registry import register_model
from graphformers.task import TaskInfo


@dataclass(frozen=True)
class SGFormerOptions:
    """SGFormer's ``model.options``, named after the authors' ``main.py`` arguments.

    Args:
        attention_layers (int, optional): simplified-attention layers (``--trans_num_layers``). (default: :obj:`1`)
        graph_weight (float, optional): the GCN branch's share of the output, the attention branch's
            being ``1 - graph_weight`` (``--graph_weight``). (default: :obj:`0.5`)
    """

    attention_layers: int = 1
    graph_weight: float = 0.5


@register_model("sgformer")
class SGFormerModel(GraphModel):
    """Two branches on the node features, each opened by its own encoder, ReLU and dropout:

    - attention: ``attention_layers`` x ``h = dropout(LN((SGFormer attention(h) + h) / 2))``, LN after
      the encoder too (SGFormer's ``TransConv`` with residual and norm, no activation);
    - graph: ``layers`` x ``h = dropout(ReLU(BN(GCN(h)))) + h_0``, ``h_0`` the encoder's state (SGFormer's
      ``GraphConv`` adds its first state in every layer), BN after the encoder too; its propagation
      by ``D^-1/2 (A + I) D^-1/2`` is PyG's ``GCNConv``;

    then ``Linear(graph_weight h_graph + (1 - graph_weight) h_attention)``. The attention reads each
    graph of a batch on its own (one graph in full-batch training). SGFormer's heads are each
    ``hidden`` wide and averaged; here they split ``hidden`` (the same for one head, as the paper's
    recipes use). Node-level tasks only.

    Args:
        config (ModelConfig): ``hidden``, ``layers`` (GCN layers), ``heads``, ``dropout`` (both
            branches), ``node_encoder`` and ``options`` (:class:`SGFormerOptions`).
        info (TaskInfo): the dataset's task (node level).

    Shapes: ``[N, num_outputs]``.
    """

    options_type = SGFormerOptions
    reads = ("hidden", "layers", "heads", "node_encoder", "dropout")

    def __init__(self, config: ModelConfig, info: TaskInfo) -> None:
        super().__init__(config, info)
        require_node_level(info, "sgformer", "model gps with mixer: sgformer")
        options = model_options(SGFormerOptions, config.options, "sgformer")
        check_positive(options.attention_layers, "sgformer's attention_layers")
        if not 0.0 <= options.graph_weight <= 1.0:
            raise PartOptionError(f"sgformer's graph_weight is a share in [0, 1], got {options.graph_weight}.")
        hidden, encoder = config.hidden, config.node_encoder or info.node_encoder
        self.graph_weight = options.graph_weight
        self.dropout = Dropout(config.dropout)
        self.attention_encoder = build_feature(encoder, info.node_in, hidden)
        self.attention = nn.ModuleList(SGFormerAttention(hidden, config.heads, 0.0)
                                       for _ in range(options.attention_layers))
        self.attention_norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(options.attention_layers + 1))
        self.graph_encoder = build_feature(encoder, info.node_in, hidden)
        self.convs = nn.ModuleList(GCNConv(hidden, hidden) for _ in range(config.layers))
        self.graph_norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(config.layers + 1))
        self.head = nn.Linear(hidden, info.num_outputs)

    def forward(self, data: Batch, chunk: int | None = None) -> Tensor:
        """``[N, num_outputs]`` for a PyG ``Batch`` (a single ``Data`` is a batch of one)."""
        if not isinstance(data, Batch):
            data = Batch.from_data_list([data])
        return self.head(self.graph_weight * self._graph(data) + (1 - self.graph_weight) * self._attention(data))

    def _attention(self, data: Batch) -> Tensor:
        h = self.dropout(self.attention_norms[0](self.attention_encoder(data.x)).relu())
        for attention, norm in zip(self.attention, self.attention_norms[1:], strict=True):
            h = self.dropout(norm((attention(h, data.batch, data) + h) / 2))
        return h

    def _graph(self, data: Batch) -> Tensor:
        h = first = self.dropout(self.graph_norms[0](self.graph_encoder(data.x)).relu())
        for conv, norm in zip(self.convs, self.graph_norms[1:], strict=True):
            h = self.dropout(norm(conv(h, data.edge_index)).relu()) + first  # SGFormer's residual: the first state
        return h
