"""The classic message-passing network (Kipf & Welling's GCN, Velickovic et al.'s GAT, GraphSAGE):
a plain stack of local blocks with an activation and dropout between them, and no residuals,
FFNs or global mixer. Published citation-graph baselines are this model; the GPS layer's
residual + FFN around the same block trains differently on their 140 labelled nodes (see
recipes/README.md, Cora and CiteSeer). With its options it is also OGB's GCN and GIN for
molecules (``examples/graphproppred/mol``; recipes/bases/ogb-mol.yaml).
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
        last_activation (bool, optional): activate the last block's output too; OGB's molecule GNNs
            do not. (default: :obj:`True`)
        head_layers (int, optional): layers of the prediction head: 2 (an MLP) or 1 (OGB's linear
            readout). (default: :obj:`2`)
        edge_encoders (str, optional): ``shared``: the edge features are encoded once and every block
            reads them; ``per_layer``: every block has its own edge encoder (OGB's GCN and GIN embed
            the bonds afresh in each layer). (default: :obj:`"shared"`)
    """

    activation: Literal["relu", "elu", "gelu"] = "relu"
    last_activation: bool = True
    head_layers: Literal[1, 2] = 2
    edge_encoders: Literal["shared", "per_layer"] = "shared"


@register_model("mpnn")
class MPNNModel(GraphModel):
    """Encoder -> ``layers`` x (local block -> norm -> activation -> dropout) -> pool -> head.

    ``h^(0) = input_dropout(encoder(x))`` and
    ``h^(l+1) = dropout(act(norm(block_l(h^(l), edge_index, edge_attr_l))))`` (no activation after the
    last block when ``last_activation`` is off); node-level tasks read ``head(h^(L))``, graph-level
    ones ``head(pool(h^(L)))``. Edge features are encoded as in the GPS model (a learned constant
    where the dataset has none), once or per block (``edge_encoders``); blocks that update them pass
    them on. With ``virtual_node``, each block reads its graph's virtual-node state added to every
    node, as OGB's GIN-VN.

    Args:
        config (ModelConfig): ``hidden``, ``layers``, ``local`` (required), ``dropout``,
            ``input_dropout``, ``norm`` (``none`` for the classic models), ``pool``, the node and
            edge feature encoders, ``virtual_node`` and ``options`` (:class:`MPNNOptions`); a block's
            heads are its own option.
        info (TaskInfo): the dataset's task.

    Shapes: ``[N, num_outputs]`` (node level), ``[num_graphs, num_outputs]`` (graph level) or
    ``[N, hidden]`` node embeddings (link level).
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
        self.blocks = nn.ModuleList(build_local(config.local, hidden) for _ in range(config.layers))
        self.edge_encoder, self.edge_vector, self.layer_edge_encoders = self._edge_encoders(options, config, info)
        self.norms = nn.ModuleList(make_norm(config.norm, hidden) for _ in range(config.layers))
        self.activation = ACTIVATIONS[options.activation]()
        self.last_activation = options.last_activation
        self.input_dropout = Dropout(config.input_dropout)
        self.dropout = Dropout(config.dropout)
        self.pool = POOLS[config.pool]
        self.virtual_node = VirtualNode(hidden, config.layers, config.dropout) if config.virtual_node else None
        self.head = build_head(info, hidden, options.head_layers)

    def _edge_encoders(self, options: MPNNOptions, config: ModelConfig, info: TaskInfo,
                       ) -> tuple[nn.Module | None, nn.Parameter | None, nn.ModuleList | None]:
        """``(edge_encoder, edge_vector, layer_edge_encoders)``: with ``edge_encoders: shared`` the pair
        from :func:`build_edge_features` and ``None``; with ``per_layer`` ``None, None`` and one edge
        encoder per block."""
        if options.edge_encoders == "shared":
            return *build_edge_features(config, info, config.hidden), None
        name = config.edge_encoder or info.edge_encoder
        if name is None:
            raise PartOptionError("mpnn's edge_encoders: per_layer encodes the edge features in every layer, but the "
                                  "dataset has none; remove the option.")
        if self.blocks[0].updates_edges:
            raise PartOptionError(f"mpnn's edge_encoders: per_layer encodes the edge features afresh for every "
                                  f"block, but {config.local.name} updates them; remove the option.")
        return None, None, nn.ModuleList(build_feature(name, info.edge_in, config.hidden) for _ in self.blocks)

    def forward(self, data: Batch, chunk: int | None = None) -> Tensor:
        """The model's output for a PyG ``Batch`` (a single ``Data`` is a batch of one)."""
        if not isinstance(data, Batch):
            data = Batch.from_data_list([data])
        x = self.input_dropout(self.node_encoder(data.x))
        per_layer = self.layer_edge_encoders
        edge_attr = None if per_layer is not None else edge_features(data, self.edge_encoder, self.edge_vector)
        virtual = self.virtual_node
        state = virtual.initial(data.num_graphs) if virtual is not None else None
        last = len(self.blocks) - 1
        for index, (block, norm) in enumerate(zip(self.blocks, self.norms, strict=True)):
            if virtual is not None:
                x = virtual.join(x, state, data.batch)
                if index < last:
                    state = virtual.update(index, x, state, data.batch)
            if per_layer is not None:
                edge_attr = per_layer[index](data.edge_attr)
            out = block(x, block.edges_of(data), edge_attr)
            if block.updates_edges:
                out, edge_attr = out
            x = norm(out)
            if index < last or self.last_activation:
                x = self.activation(x)
            x = self.dropout(x)
        if self.level == "graph":
            x = self.pool(x, data.batch, size=data.num_graphs)
        return self.head(x)
