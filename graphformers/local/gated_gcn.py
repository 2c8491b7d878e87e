"""GatedGCN with an edge stream (Bresson & Laurent 2017), after GraphGPS's ``GatedGCNLayer``.

PyG's ``ResGatedGraphConv`` gates messages but neither normalises the gates nor
updates edge features; GraphGPS's GatedGCN does both, so it is written here.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import BatchNorm
from torch_geometric.utils import scatter

from graphformers.local.base import LocalBlock
from graphformers.nn.dropout import dropout
from graphformers.registry import register_local


@register_local("gatedgcn")
class GatedGCN(LocalBlock):
    """GatedGCN: edge-gated mean of neighbour messages; edges updated with residual, BatchNorm and ReLU.

    ``e_ij' = D x_i + E x_j + C e_ij``, ``x_i' = A x_i + sum_j s(e_ij') B x_j / (sum_j s(e_ij') + eps)``.
    Returns ``(ReLU(BN(x')) [N, hidden], e_ij + dropout(ReLU(BN(e_ij'))) [E, hidden])``; as in
    GraphGPS, the node output's dropout and residual come from the GPS layer around it.

    ``forward(x [N, hidden], edge_index [2, E], edge_attr [E, hidden])`` returns that pair.

    Args:
        hidden (int): width of node and edge features, in and out (``model.hidden``).
        dropout (float, optional): dropout on the edge update ``ReLU(BN(e_ij'))`` before its
            residual; the node output is not dropped here (default: :obj:`0.0`)
    """

    incoming_only = True  # node i and edge j -> i read only x_i, x_j, e_ji (full-graph inference may chunk it)
    updates_edges = True

    def __init__(self, hidden: int, dropout: float = 0.0) -> None:
        super().__init__(hidden)
        self.dropout = dropout
        self.node_norm = BatchNorm(hidden, allow_single_element=True)
        self.node_self, self.node_neighbour, self.gate_target, self.gate_source = (
            nn.Linear(hidden, hidden) for _ in range(4)
        )
        self.gate_edge = nn.Linear(hidden, hidden)
        self.edge_norm = BatchNorm(hidden, allow_single_element=True)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        source, target = edge_index
        # the four node maps as one product (one [hidden, 4 hidden] matrix multiplies faster than four
        # [hidden, hidden] ones, and the two read at the sources are gathered together)
        projections = (self.node_self, self.gate_target, self.gate_source, self.node_neighbour)
        mapped = F.linear(x, torch.cat([p.weight for p in projections]), torch.cat([p.bias for p in projections]))
        hidden = x.size(1)
        # split, not slices: its backward is one cat, a slice's a zero-filled copy of ``mapped`` each
        at_self, at_target, at_source = mapped.split([hidden, hidden, 2 * hidden], dim=1)
        # index_select, not x[index]: the backward of advanced indexing is an accumulating index_put
        source_gate, neighbour = at_source.index_select(0, source).split(hidden, dim=1)
        gate_logits = at_target.index_select(0, target) + source_gate + self.gate_edge(edge_attr)
        gates = torch.sigmoid(gate_logits)
        messages = gates * neighbour
        weighted = scatter(messages, target, 0, dim_size=x.size(0), reduce="sum")
        normaliser = scatter(gates, target, 0, dim_size=x.size(0), reduce="sum")
        x_out = torch.relu(self.node_norm(at_self + weighted / (normaliser + 1e-6)))
        edge_update = dropout(torch.relu(self.edge_norm(gate_logits)), p=self.dropout, training=self.training)
        return x_out, edge_attr + edge_update
