"""Spectral ordering: each graph's nodes along its Fiedler vector."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform

from graphformers.encoders.laplacian import LaplacianEigenvectors
from graphformers.encoders.spectral import Normalization
from graphformers.orderings.base import NodeOrdering
from graphformers.registry import register_ordering

FIEDLER_KEY = "fiedler_vector"
"""The node attribute :class:`FiedlerVector` stores."""


class FiedlerVector(LaplacianEigenvectors):
    """LapPE's precompute (batched, cached) for the one eigenvector of the second-smallest Laplacian
    eigenvalue, stored as ``data.fiedler_vector [N, 1]``, its sign fixed so that its entry of largest
    magnitude is positive (the first such node where several tie). Graphs of one node get 0."""

    def __init__(self, normalization: Normalization = "sym") -> None:
        super().__init__(k=1, normalization=normalization)

    @property
    def channels_per_node(self) -> int:
        return 1

    def _encoding(self, eigvals: Tensor, eigvecs: Tensor, degree: Tensor) -> dict[str, Tensor]:
        vector = super()._encoding(eigvals, eigvecs, degree)["lap_eigvec"]  # [..., n, 1]
        largest = vector.abs().argmax(dim=-2, keepdim=True)
        sign = torch.sign(vector.gather(-2, largest))
        return {FIEDLER_KEY: vector * torch.where(sign == 0, 1.0, sign)}


@register_ordering("fiedler")
class FiedlerOrdering(NodeOrdering):
    """Along each graph's Fiedler vector (spectral ordering, from LapPE's precompute).

    The Fiedler vector is the Laplacian eigenvector of the second-smallest eigenvalue, computed once
    before training as LapPE's eigenvectors are; ordering by it places nodes that the graph's sparsest
    cut separates at opposite ends. Equivariant where that eigenvalue is simple and
    the vector's largest entry unique (its sign is fixed by it); disconnected graphs have a zero
    eigenvalue twice, and the vector is then one of several.

    Args:
        normalization (str, optional): the Laplacian, as ``lap``'s: ``sym``, ``rw`` or ``none``
            (default: :obj:`"sym"`)
    """

    def __init__(self, normalization: Normalization = "sym") -> None:
        self.transform = FiedlerVector(normalization)

    def precompute(self) -> BaseTransform:
        return self.transform

    def keys(self, data: Batch) -> Tensor:
        return data[FIEDLER_KEY].view(-1)
