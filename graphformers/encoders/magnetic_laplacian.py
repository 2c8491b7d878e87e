"""Magnetic Laplacian positional encoding for directed graphs (Geisler et al. 2023, "Transformers Meet Directed Graphs")."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.transforms import BaseTransform

from graphformers.encoders.base import PositionalEncoder
from graphformers.encoders.spectral import magnetic_laplacian, padded_eigenpairs
from graphformers.registry import register_encoder


def fix_phase(eigvecs: Tensor) -> Tensor:
    """Rotate each eigenvector (column) so that its largest-magnitude entry is real and positive.

    An eigenvector of a Hermitian matrix is defined up to a unit phase ``e^{i phi}``; this picks
    one deterministically (the first entry of largest magnitude, within 1e-6, decides), which
    also makes the encoding of a graph with all edges reversed the complex conjugate.
    """
    magnitude = eigvecs.abs()
    near_max = magnitude >= magnitude.max(dim=0, keepdim=True).values - 1e-6
    anchor = near_max.to(torch.int64).argmax(dim=0)
    anchor_value = eigvecs.gather(0, anchor[None, :])
    return eigvecs * (anchor_value.conj() / anchor_value.abs().clamp(min=1e-12))


class MagneticLaplacianEigenvectors(BaseTransform):
    """Stores the ``k`` smallest eigenpairs of the magnetic Laplacian with potential ``q``.

    Sets ``data.maglap_real``, ``data.maglap_imag`` (``[N, k]``, phase-fixed eigenvectors) and
    ``data.maglap_eigval`` (``[N, k]``, eigenvalues repeated per node); graphs with fewer than
    ``k`` nodes are zero-padded. Unlike the undirected Laplacian PE, the first eigenvector is kept:
    for ``q > 0`` it is not constant and carries direction.
    """

    def __init__(self, k: int, q: float = 0.25) -> None:
        if k < 1:
            raise ValueError(f"MagneticLaplacianEigenvectors: k must be >= 1, got {k}.")
        self.k, self.q = k, q

    def forward(self, data: Data) -> Data:
        eigvals, eigvecs = torch.linalg.eigh(magnetic_laplacian(data.edge_index, data.num_nodes, self.q))
        vectors, values = padded_eigenpairs(eigvals, fix_phase(eigvecs[:, : self.k]), start=0, k=self.k)
        data.maglap_real, data.maglap_imag = vectors.real.float(), vectors.imag.float()
        data.maglap_eigval = values.float()
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k}, q={self.q})"


@register_encoder("maglap")
class MagLapPE(PositionalEncoder):
    """Magnetic Laplacian eigenvectors (real and imaginary parts) and eigenvalues, linearly embedded."""

    def __init__(self, dim: int = 16, k: int = 8, q: float = 0.25) -> None:
        super().__init__(dim)
        self.k, self.q = k, q
        self.linear = nn.Linear(3 * k, dim)

    def precompute(self) -> BaseTransform:
        return MagneticLaplacianEigenvectors(self.k, self.q)

    def forward(self, data: Batch) -> Tensor:
        return self.linear(torch.cat([data.maglap_real, data.maglap_imag, data.maglap_eigval], dim=-1))
