"""Local message-passing blocks.

Interface: ``Block(hidden, **options)``; ``forward(x [N, hidden], edge_index [2, E],
edge_attr [E, hidden])`` returns ``x' [N, hidden]``, or ``(x', edge_attr' [E, hidden])``
for blocks that update edge features. The GPS layer adds the residual, dropout and norm.
"""
from graphformers.local.gated_gcn import GatedGCN
from graphformers.local.polynormer import PolynormerLocal
from graphformers.local.pyg_convs import GAT, GCN, GINE

__all__ = ["GINE", "GCN", "GAT", "GatedGCN", "PolynormerLocal"]
