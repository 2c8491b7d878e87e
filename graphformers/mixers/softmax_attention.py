"""Softmax attention over padded blocks, with attention dropout that is cheap on the CPU.

On the CPU, ``scaled_dot_product_attention`` with ``dropout_p > 0`` runs its unfused (math) path,
whose dropout draws the mask with ``bernoulli_``: 36% of a Peptides-func GPS training step on 2
cores. Here that path is written out with the mask from
:func:`~graphformers.nn.dropout.dropout_keep_mask`. Without dropout, and on accelerators (whose
fused kernels draw their own mask), ``scaled_dot_product_attention`` is used as it is.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from graphformers.nn.dropout import dropout_keep_mask, kept


def block_attention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, dropout: float) -> Tensor:
    """``softmax(q k^T / sqrt(d) + mask) v`` per head and graph, with dropout ``dropout`` on the probabilities.

    On the CPU with dropout, the scores are written out (as ``scaled_dot_product_attention``'s
    CPU path does in that case) and the probabilities, in float32 at least, are dropped with
    :func:`~graphformers.nn.dropout.dropout_keep_mask`; otherwise this is ``scaled_dot_product_attention``.

    Args:
        query, key, value (Tensor): one block, ``[G, heads, L, d]``; laid out heads first in memory
            (``[heads, G, L, d]`` transposed), the CPU path batches them without a copy.
        mask (Tensor, optional): bool ``[G, 1, 1, L]`` (True: a real key) or a float bias
            ``[G, heads, L, L]`` (``-inf`` on padded keys); None: every key is real.
        dropout (float): drop probability of each attention probability (0 outside training).

    Shapes: ``[G, heads, L, d]`` -> ``[G, heads, L, d]``.
    """
    if dropout == 0.0 or query.device.type != "cpu":
        return F.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=dropout)
    graphs, heads, length, width = query.shape

    def batched(block: Tensor) -> Tensor:  # [G, heads, *] -> [heads * G, *], a view of heads-first memory
        return block.transpose(0, 1).reshape(heads * graphs, *block.shape[2:])

    if mask is None:
        bias = query.new_zeros(())
    elif mask.dtype == torch.bool:  # [G, 1, 1, L] -> a -inf bias on padded keys, [heads * G, 1, L]
        bias = query.new_zeros(mask.shape).masked_fill(~mask, float("-inf")).expand(-1, heads, -1, -1)
        bias = batched(bias)
    else:
        bias = batched(mask)
    # the bias enters the product (beta 1) instead of a masking pass over the scores, forward and backward
    scores = torch.baddbmm(bias, batched(query), batched(key).transpose(1, 2), alpha=width ** -0.5)
    probabilities = torch.softmax(scores, dim=-1, dtype=torch.promote_types(scores.dtype, torch.float32))
    dropped = kept(probabilities, dropout_keep_mask(probabilities.shape, dropout, probabilities.device))
    # rescaled after the product: L / d times fewer values than the probabilities
    attended = (dropped.to(value.dtype) @ batched(value)) * (1.0 / (1.0 - dropout))
    return attended.view(heads, graphs, length, width).transpose(0, 1)
