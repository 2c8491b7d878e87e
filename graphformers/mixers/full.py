"""Exact multi-head softmax attention within each graph (Vaswani et al. 2017; GraphGPS's ``Transformer``)."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.utils import to_dense_batch

from graphformers.mixers.base import GlobalMixer
from graphformers.registry import register_mixer


@register_mixer("full")
class FullAttention(GlobalMixer):
    """Exact softmax attention among the nodes of each graph; O(sum N_i^2) per batch.

    Graphs are padded to the largest one with ``to_dense_batch`` and padded keys are
    masked in ``scaled_dot_product_attention``. Q, K and V come from one fused
    projection (PyG's ``GPSConv`` uses ``nn.MultiheadAttention``, which does the same).
    """

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__(hidden, heads, dropout)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        dense, mask = to_dense_batch(x, batch)  # [B, M, hidden], [B, M]
        num_graphs, max_nodes, _ = dense.shape
        q, k, v = (
            self.qkv(dense).view(num_graphs, max_nodes, 3, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        )  # each [B, heads, M, hidden / heads]
        attended = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask[:, None, None, :], dropout_p=self.dropout if self.training else 0.0
        )
        attended = attended.transpose(1, 2).reshape(num_graphs, max_nodes, self.hidden)
        return self.out(attended[mask])
