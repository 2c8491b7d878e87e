"""Dropout whose mask costs a few random bits per element on the CPU.

``bernoulli_``, which PyTorch's dropout draws its masks with on the CPU, costs about 8x more than
drawing the same mask from random integers (11.5 M elements on 2 cores: 156-207 ms against 17-21 ms):
36% of a Peptides-func GPS training step (attention dropout) and 16% of one on HIV molecules
(feature dropout) went to it. On accelerators PyTorch's own kernels are used.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

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
    """``values * keep * scale`` for a bool ``keep``, saving only the 1-byte mask for backward.

    A product with a bool tensor (or ``torch.where``) runs about 4x slower on the CPU than one with
    floats, and floats saved for backward take 4 bytes an element; the mask is turned into floats
    through its bytes (``uint8``, 3x faster than from ``bool``) when it is used, forward and backward.
    """

    @staticmethod
    def forward(ctx, values: Tensor, keep: Tensor, scale: float) -> Tensor:
        ctx.save_for_backward(keep)
        ctx.scale = scale
        return values * _factors(keep, values.dtype, scale)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (keep,) = ctx.saved_tensors
        return grad * _factors(keep, grad.dtype, ctx.scale), None, None


def _factors(keep: Tensor, dtype: torch.dtype, scale: float) -> Tensor:
    factors = keep.view(torch.uint8).to(dtype)
    return factors if scale == 1.0 else factors.mul_(scale)


def kept(values: Tensor, keep: Tensor, scale: float = 1.0) -> Tensor:
    """``values`` where ``keep`` (bool, same shape) holds, times ``scale``; zero elsewhere.

    Shapes: ``values [*]``, ``keep [*]`` -> ``[*]``.
    """
    return _KeptValues.apply(values, keep, scale)


def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """``F.dropout`` with the mask drawn by :func:`dropout_keep_mask` on the CPU (``bernoulli_``, which
    ``F.dropout`` uses there, took 16% of a GPS training step on HIV molecules); elsewhere ``F.dropout``.

    Args:
        x (Tensor): the input.
        p (float): drop probability, in ``[0, 1)``.
        training (bool): drop only in training.

    Shapes: ``[*]`` -> ``[*]``.
    """
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p >= 1.0:
        return F.dropout(x, p, training)
    return kept(x, dropout_keep_mask(x.shape, p, x.device), 1.0 / (1.0 - p))


class Dropout(nn.Dropout):
    """``nn.Dropout`` through :func:`dropout` (same state dict: none)."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)


