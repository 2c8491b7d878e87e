"""Exact multi-head softmax attention within each graph (Vaswani et al. 2017; GraphGPS's ``Transformer``)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch

from graphformers.mixers.base import GlobalMixer
from graphformers.registry import register_mixer

PAD_RATIO = 1.25
"""A graph shares a padded block with larger graphs only if the largest is at most this many times its size."""


def size_groups(sizes: Tensor, ratio: float = PAD_RATIO) -> list[Tensor]:
    """Graph ids grouped by size, largest first, so that padding within a group is at most ``ratio``x per side.

    Padding a whole batch to its largest graph (as ``to_dense_batch`` and PyG's ``GPSConv`` do)
    wastes most of the O(N^2) work when sizes vary: on Peptides (8 to 444 nodes, mean 151)
    the padded score matrices are ~6x the real ones. Groups of similar size cut that waste
    to at most ``ratio^2`` at the price of one attention call per group.
    """
    order = torch.argsort(sizes, descending=True, stable=True)
    ordered = sizes[order].tolist()
    groups, start = [], 0
    for i in range(1, len(ordered) + 1):
        if i == len(ordered) or ordered[i] * ratio < ordered[start]:
            if ordered[start] > 0:
                groups.append(order[start:i])
            start = i
    return groups


@register_mixer("full")
class FullAttention(GlobalMixer):
    """Exact softmax attention among the nodes of each graph; O(sum N_i^2) per batch.

    Q, K and V come from one fused projection of the packed nodes; graphs of similar size
    (:func:`size_groups`) are gathered into one padded block each and attended with
    ``scaled_dot_product_attention`` (padded keys masked; blocks of equal-size graphs need
    no mask, which lets PyTorch pick its fused kernels). Nodes must be ordered by graph, as
    in every PyG ``Batch``.
    """

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__(hidden, heads, dropout)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        num_nodes = x.size(0)
        sizes = torch.bincount(batch, minlength=int(batch.max()) + 1 if num_nodes else 0)
        starts = torch.cumsum(sizes, 0) - sizes
        q, k, v = self.qkv(x).view(num_nodes, 3, self.heads, -1).unbind(1)  # each [N, heads, hidden / heads]
        attended = x.new_empty(num_nodes, self.heads, self.hidden // self.heads)
        for group in size_groups(sizes):
            length = int(sizes[group[0]])
            positions = torch.arange(length, device=x.device)
            valid = positions < sizes[group][:, None]  # [G, L]
            index = torch.where(valid, starts[group][:, None] + positions, 0)
            mask = None if bool(valid.all()) else valid[:, None, None, :]
            block = F.scaled_dot_product_attention(
                *(t[index].transpose(1, 2) for t in (q, k, v)), attn_mask=mask,
                dropout_p=self.dropout if self.training else 0.0,
            )  # [G, heads, L, hidden / heads]
            attended[index[valid]] = block.transpose(1, 2)[valid]
        return self.out(attended.reshape(num_nodes, self.hidden))
