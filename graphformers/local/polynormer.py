"""Polynormer's local block (Deng et al. 2024)."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import BatchNorm, GATConv, GCNConv

from graphformers.errors import check_heads_divide
from graphformers.local.base import LocalBlock
from graphformers.registry import register_local


@register_local("polynormer")
class PolynormerLocal(LocalBlock):
    """Polynormer local block: ``x' = ReLU(BN(conv(x) + W x))``, out ``(1 - beta) LN(ReLU(W_h x) * x') + beta x'``.

    ``conv`` is GCN, or GAT with ``heads`` heads when ``attention`` is true (Polynormer's
    ``local_attn``), as in PyG's ``Polynormer`` model; the gate makes the block polynomial
    in its input. Ignores edge features.

    ``forward(x [N, hidden], edge_index [2, E], edge_attr) -> [N, hidden]``; with GCN,
    ``edge_index`` may also be the sparse transposed adjacency ``adj_t [N, N]``.

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
        beta (float, optional): weight of ``x'`` in the output mix
            ``(1 - beta) LN(ReLU(W_h x) * x') + beta x'`` (default: :obj:`0.9`)
        attention (bool, optional): use GAT (no self loops, no bias) as ``conv`` instead of GCN
            (default: :obj:`False`)
        heads (int, optional): GAT heads, each ``hidden / heads`` wide, concatenated; must divide
            ``hidden``; used only with ``attention`` (default: :obj:`1`)
    """

    def __init__(self, hidden: int, beta: float = 0.9, attention: bool = False, heads: int = 1) -> None:
        super().__init__(hidden)
        if attention:
            check_heads_divide(hidden, heads, "polynormer")
        self.beta = beta
        self.incoming_only = attention  # GAT without self loops reads incoming edges only; GCN reads source degrees
        self.accepts_adjacency = not attention  # GCN takes PyG's sparse adj_t as well as edge_index
        self.conv = (GATConv(hidden, hidden // heads, heads=heads, add_self_loops=False, bias=False)
                     if attention else GCNConv(hidden, hidden))
        self.gate = nn.Linear(hidden, hidden)
        self.skip = nn.Linear(hidden, hidden)
        self.batch_norm = BatchNorm(hidden, allow_single_element=True)
        self.layer_norm = nn.LayerNorm(hidden)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        gate = F.relu(self.gate(x))
        h = F.relu(self.batch_norm(self.conv(x, edge_index) + self.skip(x)))
        return (1 - self.beta) * self.layer_norm(gate * h) + self.beta * h
