"""A mixer that turns the loss NaN after a number of training steps, to test non-finite-loss handling."""
from __future__ import annotations

import torch

from graphformers.mixers.full import FullAttention
from graphformers.registry import register_mixer


@register_mixer("nan-after")
class NaNAfter(FullAttention):
    """Full attention whose output becomes NaN from its ``steps``-th training call on."""

    def __init__(self, hidden: int, heads: int, dropout: float, steps: int = 15, once: bool = False) -> None:
        super().__init__(hidden, heads, dropout)
        self.steps, self.once, self.calls = steps, once, 0

    def forward(self, x, batch, data):
        out = super().forward(x, batch, data)
        if self.training:
            self.calls += 1
            if self.calls == self.steps or (self.calls > self.steps and not self.once):
                return out * torch.nan
        return out
