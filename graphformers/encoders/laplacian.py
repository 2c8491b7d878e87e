"""Laplacian eigenvector positional encoding (Dwivedi et al. 2020; GraphGPS's ``LapPE``)."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.transforms import BaseTransform

from graphformers.encoders.base import PositionalEncoder
from graphformers.encoders.spectral import (
    dense_symmetric_adjacency, padded_eigenpairs, symmetric_normalized_laplacian,
)
from graphformers.registry import register_encoder


class LaplacianEigenvectors(BaseTransform):
    """Stores the ``k`` smallest eigenpairs of ``I - D^-1/2 A D^-1/2`` after the first.

    Sets ``data.lap_eigvec`` ``[N, k]`` and ``data.lap_eigval`` ``[N, k]`` (the eigenvalues,
    repeated on every node so they batch like node features). Unlike PyG's
    ``AddLaplacianEigenvectorPE``, graphs with ``N <= k`` are zero-padded instead of
    rejected, and a dense ``torch.linalg.eigh`` replaces ARPACK, which is faster on
    molecule-sized graphs. The graph is treated as undirected.
    """

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValueError(f"LaplacianEigenvectors: k must be >= 1, got {k}.")
        self.k = k

    def forward(self, data: Data) -> Data:
        num_nodes = data.num_nodes
        laplacian = symmetric_normalized_laplacian(dense_symmetric_adjacency(data.edge_index, num_nodes))
        eigvals, eigvecs = torch.linalg.eigh(laplacian)
        vectors, values = padded_eigenpairs(eigvals, eigvecs, start=1, k=self.k)
        data.lap_eigvec, data.lap_eigval = vectors.float(), values.float()
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k})"


@register_encoder("lap")
class LapPE(PositionalEncoder):
    """Laplacian eigenvectors and eigenvalues, linearly embedded; eigenvector signs flipped at random in training."""

    def __init__(self, dim: int = 16, k: int = 8) -> None:
        super().__init__(dim)
        self.k = k
        self.linear = nn.Linear(2 * k, dim)

    def precompute(self) -> BaseTransform:
        return LaplacianEigenvectors(self.k)

    def forward(self, data: Batch) -> Tensor:
        eigvec = data.lap_eigvec
        if self.training:
            # An eigenvector's sign is arbitrary: train on both (one draw per graph and eigenvector).
            signs = torch.randint(0, 2, (data.num_graphs, self.k), device=eigvec.device) * 2 - 1
            eigvec = eigvec * signs[data.batch]
        return self.linear(torch.cat([eigvec, data.lap_eigval], dim=-1))
