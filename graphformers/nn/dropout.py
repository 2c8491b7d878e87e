"""Dropout whose mask costs a few random bits per element on the CPU.

``bernoulli_``, which PyTorch's dropout draws its masks with on the CPU, costs about 8x more than
drawing the same mask from random integers (11.5 M elements on 2 cores: 156-207 ms against 17-21 ms):
36% of a Peptides-func GPS training step (attention dropout) and 16% of one on HIV molecules
(feature dropout) went to it. On accelerators PyTorch's own kernels are used.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def keep_thresholds(p: float) -> tuple[torch.dtype, list[int]]:
    """The lanes a mask for drop probability ``p`` compares, and the smallest value of each lane of
    one draw that keeps an element.

    ``random_()`` fills an int64 with 63 uniform bits (0 to 2^63 - 1; drawing the sign bit too, with
    ``random_(-2**63, None)``, took twice as long): every lane but the last is a full signed lane,
    the last (little-endian) has its sign bit clear. Where ``p`` is a multiple of 1/128 (0.5,
    attention dropout's usual value) the lanes are eight ``int8`` and the keep probability is
    exactly ``1 - p``; otherwise four ``int16``, within 2^-17 of it (2^-16 in the last lane).
    """
    lanes = torch.int8 if float(p * 2**7).is_integer() else torch.int16
    bits = 8 * lanes.itemsize
    full = min(round(p * 2**bits) - 2**(bits - 1), 2**(bits - 1) - 1)
    return lanes, [full] * (8 // lanes.itemsize - 1) + [min(round(p * 2**(bits - 1)), 2**(bits - 1) - 1)]


def dropout_keep_mask(shape: Sequence[int], p: float, device: torch.device | str = "cpu",
                      generator: torch.Generator | None = None) -> Tensor:
    """A bool mask, each element independently ``True`` (kept) with probability ``1 - p``.

    The bits come from torch's generator (the default one unless ``generator`` is given), so
    ``torch.manual_seed`` and a resumed generator state reproduce the mask. One int64 draw gives
    eight int8 or four int16 lanes (:func:`keep_thresholds`); each element compares one lane with
    its threshold. Byte lanes (``p`` a multiple of 1/128) make a mask 40% faster (11.5 M elements:
    9 ms against 15).

    Args:
        shape (sequence of int): the mask's shape.
        p (float): the drop probability, in ``[0, 1)``.
        device (torch.device or str): where the mask is made.
        generator (torch.Generator, optional): the generator to draw from.

    Shapes: ``shape`` -> ``shape`` (bool).
    """
    numel = math.prod(shape)
    lanes, thresholds = keep_thresholds(p)
    bits = torch.empty(-(-numel // len(thresholds)), dtype=torch.int64, device=device).random_(generator=generator)
    keep = bits.view(lanes).view(-1, len(thresholds)) >= torch.tensor(thresholds, dtype=lanes, device=device)
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
        return values * keep_factors(keep, values.dtype, scale)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (keep,) = ctx.saved_tensors
        return grad * keep_factors(keep, grad.dtype, ctx.scale), None, None


def keep_factors(keep: Tensor, dtype: torch.dtype, scale: float = 1.0) -> Tensor:
    """A bool mask as values of ``dtype``: ``scale`` where it holds, 0 elsewhere, converted through
    its bytes (``uint8``, 3x faster than from ``bool``).

    Shapes: ``[*]`` -> ``[*]``.
    """
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


