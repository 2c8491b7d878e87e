"""Local message-passing blocks; the contract is :class:`graphformers.local.base.LocalBlock`."""
from graphformers.local.base import LocalBlock
from graphformers.local.gated_gcn import GatedGCN
from graphformers.local.ogb_gcn import OGBGCN
from graphformers.local.polynormer import PolynormerLocal
from graphformers.local.pyg_convs import GAT, GCN, GINE

__all__ = ["LocalBlock", "GINE", "GCN", "GAT", "GatedGCN", "OGBGCN", "PolynormerLocal"]
