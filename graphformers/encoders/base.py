"""Interfaces of the two kinds of input encoder.

* A :class:`FeatureEncoder` embeds raw node or edge features (floats, OGB atom/bond
  categories, ...) into ``out_dim`` channels: ``forward(x [N, in]) -> [N, out_dim]``.
* A :class:`PositionalEncoder` turns a precomputed positional or structural encoding
  into ``dim`` channels: its :meth:`precompute` transform stores the encoding on every
  graph once, before training, and ``forward(data) -> [N, dim]`` embeds it per batch.
"""
from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform


class FeatureEncoder(nn.Module):
    """Embeds raw features ``[N, in_dim]`` into ``[N, out_dim]``."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim


class PositionalEncoder(nn.Module):
    """Embeds a precomputed positional/structural encoding into ``dim`` channels."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def precompute(self) -> BaseTransform:
        """The transform that stores this encoding's input on each graph."""
        raise NotImplementedError

    def forward(self, data: Batch) -> Tensor:
        raise NotImplementedError
