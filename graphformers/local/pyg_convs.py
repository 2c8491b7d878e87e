"""Local message-passing blocks wrapping PyG convolutions."""
from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv, GINEConv

from graphformers.registry import register_local


@register_local("gine")
class GINE(nn.Module):
    """GINE (Hu et al. 2020): GIN with edge features added to messages (PyG ``GINEConv``)."""

    incoming_only = True  # a node's output reads only its incoming edges (full-graph inference may chunk it)

    def __init__(self, hidden: int, train_eps: bool = True) -> None:
        super().__init__()
        mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.conv = GINEConv(mlp, train_eps=train_eps, edge_dim=hidden)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return self.conv(x, edge_index, edge_attr)


@register_local("gcn")
class GCN(nn.Module):
    """GCN (Kipf & Welling 2017), symmetric normalisation with self loops; ignores edge features."""

    accepts_adjacency = True  # edge_index may be PyG's sparse adj_t (full-graph inference aggregates by spmm)

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.conv = GCNConv(hidden, hidden)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return self.conv(x, edge_index)


@register_local("gat")
class GAT(nn.Module):
    """GATv1 (Velickovic et al. 2018) with edge features in the attention logits (PyG ``GATConv``)."""

    incoming_only = True  # softmax over incoming edges; self-loop features = mean of incoming ones

    def __init__(self, hidden: int, heads: int = 4) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"gat: hidden ({hidden}) must be divisible by heads ({heads}).")
        self.conv = GATConv(hidden, hidden // heads, heads=heads, edge_dim=hidden)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return self.conv(x, edge_index, edge_attr)
