"""Softmax attention over padded blocks, with attention dropout that is cheap on the CPU.

On the CPU, ``scaled_dot_product_attention`` with ``dropout_p > 0`` runs its unfused (math) path,
whose dropout draws the mask with ``bernoulli_``: 36% of a Peptides-func GPS training step on 2
cores (11.5 M mask elements: 156-207 ms for ``bernoulli_``, 17-21 ms for the same mask from
:func:`dropout_keep_mask`). Without dropout, and on accelerators (whose fused kernels draw their
own mask), ``scaled_dot_product_attention`` is used as it is.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

_LANES = 4
"""int16 lanes of one int64 random draw."""
_FULL_LANES = 3
"""lanes 0-2 of a draw hold 16 uniform bits (signed, -2^15 .. 2^15 - 1); lane 3 holds 15 (0 .. 2^15 - 1):
``random_()`` fills an int64 from 0 to 2^63 - 1, so the sign bit is always clear (little-endian lanes)."""


def keep_thresholds(p: float) -> list[int]:
    """The smallest value of each int16 lane (see :data:`_FULL_LANES`) that keeps an element, for drop probability ``p``."""
    full = min(round(p * 2**16) - 2**15, 2**15 - 1)
    return [full] * _FULL_LANES + [min(round(p * 2**15), 2**15 - 1)]


def dropout_keep_mask(shape: Sequence[int], p: float, device: torch.device | str = "cpu",
                      generator: Optional[torch.Generator] = None) -> Tensor:
    """A bool mask, each element independently ``True`` (kept) with probability ``1 - p``.

    The bits come from torch's generator (the default one unless ``generator`` is given), so
    ``torch.manual_seed`` and a resumed generator state reproduce the mask. One int64 draw gives
    four int16 lanes; each element compares one lane with a threshold, so the keep probability is
    within 2^-16 of ``1 - p`` (the 15-bit lane) or 2^-17 (the others).

    Args:
        shape (sequence of int): the mask's shape.
        p (float): the drop probability, in ``[0, 1)``.
        device (torch.device or str): where the mask is made.
        generator (torch.Generator, optional): the generator to draw from.

    Shapes: ``shape`` -> ``shape`` (bool).
    """
    numel = math.prod(shape)
    thresholds = torch.tensor(keep_thresholds(p), dtype=torch.int16, device=device)
    bits = torch.empty(-(-numel // _LANES), dtype=torch.int64, device=device).random_(generator=generator)
    keep = bits.view(torch.int16).view(-1, _LANES) >= thresholds
    return keep.view(-1)[:numel].view(*shape)


class _KeptValues(torch.autograd.Function):
    """``values * keep`` for a bool ``keep``, saving only the 1-byte mask for backward.

    A product with a bool tensor (or ``torch.where``) runs about 4x slower on the CPU than one with
    floats, and floats saved for backward take 4 bytes an element; the mask is turned into floats
    through its bytes (``uint8``, 3x faster than from ``bool``) when it is used, forward and backward.
    """

    @staticmethod
    def forward(ctx, values: Tensor, keep: Tensor) -> Tensor:
        ctx.save_for_backward(keep)
        return values * keep.view(torch.uint8).to(values.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (keep,) = ctx.saved_tensors
        return grad * keep.view(torch.uint8).to(grad.dtype), None


def block_attention(query: Tensor, key: Tensor, value: Tensor, mask: Optional[Tensor], dropout: float) -> Tensor:
    """``softmax(q k^T / sqrt(d) + mask) v`` per head and graph, with dropout ``dropout`` on the probabilities.

    On the CPU with dropout, the scores are written out (as ``scaled_dot_product_attention``'s
    CPU path does in that case) and the probabilities, in float32 at least, are dropped with
    :func:`dropout_keep_mask`; otherwise this is ``scaled_dot_product_attention``.

    Args:
        query, key, value (Tensor): one block, ``[G, heads, L, d]``.
        mask (Tensor, optional): bool ``[G, 1, 1, L]`` (True: a real key) or a float bias
            ``[G, heads, L, L]`` (``-inf`` on padded keys); None: every key is real.
        dropout (float): drop probability of each attention probability (0 outside training).

    Shapes: ``[G, heads, L, d]`` -> ``[G, heads, L, d]``.
    """
    if dropout == 0.0 or query.device.type != "cpu":
        return F.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=dropout)
    graphs, heads, length, width = query.shape
    if mask is None:
        bias = query.new_zeros(())
    elif mask.dtype == torch.bool:  # [G, 1, 1, L] -> a -inf bias on padded keys, [G * heads, 1, L]
        bias = query.new_zeros(mask.shape).masked_fill(~mask, float("-inf")).expand(-1, heads, -1, -1)
        bias = bias.reshape(graphs * heads, 1, length)
    else:
        bias = mask.reshape(graphs * heads, length, length)
    # the bias enters the product (beta 1) instead of a masking pass over the scores, forward and backward
    scores = torch.baddbmm(bias, query.reshape(-1, length, width), key.reshape(-1, length, width).transpose(1, 2),
                           alpha=width ** -0.5).view(graphs, heads, length, length)
    probabilities = torch.softmax(scores, dim=-1, dtype=torch.promote_types(scores.dtype, torch.float32))
    kept = _KeptValues.apply(probabilities, dropout_keep_mask(probabilities.shape, dropout, probabilities.device))
    return (kept.to(value.dtype) @ value) * (1.0 / (1.0 - dropout))  # rescaled after the product: L / d times fewer values
