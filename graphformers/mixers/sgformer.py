"""SGFormer's simplified global attention (Wu et al. 2023) within each graph."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch

from graphformers.mixers.base import GlobalMixer
from graphformers.mixers.kernel_attention import from_head_blocks, to_head_blocks
from graphformers.nn.dropout import dropout
from graphformers.registry import register_mixer

NORM_FLOOR = 1e-12
"""Smallest Frobenius norm divided by (a graph whose queries or keys are all zero)."""


@register_mixer("sgformer")
class SGFormerAttention(GlobalMixer):
    """SGFormer's attention (qitianwu/SGFormer ``TransConvLayer``), linear in N, one graph at a time.

    With ``Q~ = Q / |Q|_F`` and ``K~ = K / |K|_F`` (Frobenius norms over the graph's nodes and all
    heads) and ``n`` the graph's node count:
    ``y_i = (q~_i K~^T V + n v_i) / (q~_i K~^T 1 + n)`` for each head, so every node attends to
    itself with weight ``n`` beside the softmax-free scores. Graphs are gathered into size blocks;
    padded slots add to no sum. SGFormer's heads are each ``hidden`` wide and averaged (ogbn-arxiv
    uses one); here they split ``hidden`` and are concatenated, which is the same for one head.
    No output map, as in SGFormer.

    ``forward(x [N, hidden], batch [N], data) -> [N, hidden]``.

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
        heads (int): attention heads, each ``hidden / heads`` wide (``model.heads``).
        dropout (float): dropout on the attended values (``model.attn_dropout``).
    """

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__(hidden, heads, dropout)
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        shape = (x.size(0), self.heads, self.hidden // self.heads)
        packed = torch.cat([self.query(x).view(shape), self.key(x).view(shape), self.value(x).view(shape)], dim=-1)
        plan, blocks = to_head_blocks(packed, data)
        attended = from_head_blocks([_block_attention(valid, block) for valid, block in blocks], plan)
        return dropout(attended.reshape(x.size(0), self.hidden), p=self.dropout, training=self.training)


def _block_attention(valid: Tensor | None, block: Tensor) -> Tensor:
    """SGFormer's attention in each graph of a block: ``[heads, G, L, 3 w]`` (queries, keys, values;
    ``valid [G, L]``) -> ``[heads, G, L, w]`` (padded slots hold finite values nothing reads)."""
    queries, keys, values = block.chunk(3, dim=-1)
    if valid is None:
        nodes = torch.full((1, block.size(1), 1, 1), float(block.size(2)), dtype=block.dtype, device=block.device)
    else:
        mask = valid[None, :, :, None].to(block.dtype)
        queries, keys = queries * mask, keys * mask
        nodes = mask.sum(dim=2, keepdim=True)
    queries = queries / _frobenius(queries)
    keys = keys / _frobenius(keys)
    extended = torch.cat([values, torch.ones_like(values[..., :1])], dim=-1)  # the ones give the normaliser
    attended = queries @ (keys.transpose(-1, -2) @ extended) + nodes * extended
    # one node: (q~.k~ + 1) v / (q~.k~ + 1) is v, but the ratio is 0 / 0 where q~ = -k~; give v itself
    return torch.where(nodes == 1, values, attended[..., :-1] / attended[..., -1:])


def _frobenius(values: Tensor) -> Tensor:
    """Each graph's Frobenius norm over its heads, nodes and channels: ``[heads, G, L, w]`` -> ``[1, G, 1, 1]``."""
    return values.pow(2).sum(dim=(0, 2, 3), keepdim=True).sqrt().clamp_min(NORM_FLOOR)
