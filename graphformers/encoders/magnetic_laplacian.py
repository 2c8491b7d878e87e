"""Magnetic Laplacian positional encoding for directed graphs (Geisler et al. 2023, "Transformers Meet Directed
Graphs")."""
from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse.linalg as spla
import torch
from torch import Tensor
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform

from graphformers.encoders.base import PositionalEncoder
from graphformers.encoders.eigen_embedding import build_eigen_embedding, valid_eigenpairs
from graphformers.encoders.precompute import NodeEncoding, dense_fallback
from graphformers.encoders.spectral import (
    ARPACK_TOL,
    magnetic_laplacian,
    padded_eigenpairs,
    relative_potential,
    sparse_adjacency,
    sparse_magnetic_laplacian,
)
from graphformers.errors import PartOptionError
from graphformers.registry import register_positional_encoder


def fix_phase(eigvecs: Tensor) -> Tensor:
    """Rotate each eigenvector (column of ``[..., n, k]``) so its largest-magnitude entry is real and positive.

    An eigenvector of a Hermitian matrix is defined up to a unit phase ``e^{i phi}``; this picks
    one deterministically (the first entry of largest magnitude, within 1e-6, decides), which
    also makes the encoding of a graph with all edges reversed the complex conjugate.
    """
    magnitude = eigvecs.abs()
    near_max = magnitude >= magnitude.max(dim=-2, keepdim=True).values - 1e-6
    anchor = near_max.to(torch.int64).argmax(dim=-2, keepdim=True)
    anchor_value = eigvecs.gather(-2, anchor)
    return eigvecs * (anchor_value.conj() / anchor_value.abs().clamp(min=1e-12))


class MagneticLaplacianEigenvectors(NodeEncoding):
    """Stores the ``k`` smallest eigenpairs of the magnetic Laplacian with potential ``q``.

    Sets ``data.maglap_real``, ``data.maglap_imag`` (``[N, k]``, phase-fixed eigenvectors) and
    ``data.maglap_eigval`` (``[N, k]``, eigenvalues repeated per node); graphs with fewer than
    ``k`` nodes are zero-padded. With ``relative=True``, ``q`` is the relative potential ``q'``
    and each graph uses ``q' / max(min(m, n), 1)`` (``m`` one-way edges, ``n`` nodes; the
    paper's default). Unlike the undirected Laplacian PE the first eigenvector is kept:
    for ``q > 0`` it is not constant and carries direction.
    """

    def __init__(self, k: int, q: float = 0.25, relative: bool = False, edges: str = "edge_index") -> None:
        if k < 1:
            raise PartOptionError(f"MagneticLaplacianEigenvectors: k must be >= 1, got {k}.")
        self.k, self.q, self.relative, self.edges = k, q, relative, edges

    @property
    def channels_per_node(self) -> int:
        return 3 * self.k  # real and imaginary parts, eigenvalues

    def dense(self, directed: Tensor) -> dict[str, Tensor]:
        q = relative_potential(directed, self.q) if self.relative else self.q
        eigvals, eigvecs = torch.linalg.eigh(magnetic_laplacian(directed, q))
        return self._encoding(eigvals, eigvecs)

    def sparse(self, edge_index: Tensor, num_nodes: int) -> dict[str, Tensor]:
        if num_nodes <= self.k + 1:
            return dense_fallback(self, edge_index, num_nodes)
        directed, symmetric = sparse_adjacency(edge_index, num_nodes)
        q = self.q
        if self.relative:
            one_way = directed.nnz - directed.multiply(directed.T).nnz
            q = self.q / max(min(one_way, num_nodes), 1)
        start = np.random.default_rng(0).standard_normal(num_nodes).astype(np.complex128)
        eigvals, eigvecs = spla.eigsh(sparse_magnetic_laplacian(directed, symmetric, q), k=self.k, which="SA",
                                     v0=start, tol=ARPACK_TOL)
        order = np.argsort(eigvals)
        return self._encoding(torch.from_numpy(eigvals[order]), torch.from_numpy(eigvecs[:, order]))

    def _encoding(self, eigvals: Tensor, eigvecs: Tensor) -> dict[str, Tensor]:
        vectors, values = padded_eigenpairs(eigvals, fix_phase(eigvecs[..., : self.k]), start=0, k=self.k)
        return {"maglap_real": vectors.real.float(), "maglap_imag": vectors.imag.float(),
                "maglap_eigval": values.float()}

    def __repr__(self) -> str:
        edges = f", edges={self.edges!r}" if self.edges != "edge_index" else ""
        return f"{type(self).__name__}(k={self.k}, q={self.q}, relative={self.relative}{edges})"


@register_positional_encoder("maglap")
class MagLapPE(PositionalEncoder):
    """Magnetic Laplacian eigenvectors (real and imaginary parts) and eigenvalues, embedded by ``linear`` or
    ``signnet``.

    The phase is fixed at precompute (:func:`fix_phase`); ``signnet`` additionally makes the
    encoder invariant to the sign of each eigenvector, as the paper's MagLapNet does. ``edges``
    names the graph attribute with the directed edges (default ``edge_index``; e.g. ogbg-code2's
    ``directed_edge_index``, whose message-passing ``edge_index`` also holds the reversed edges).

    ``forward(data) -> [N, dim]`` reads ``data.maglap_real``, ``data.maglap_imag`` and
    ``data.maglap_eigval`` (each ``[N, k]``), stored by the :meth:`precompute` transform
    (:class:`MagneticLaplacianEigenvectors`); slots beyond a small graph's eigenpairs are
    zero-padded and masked.

    Args:
        dim (int, optional): output channels, concatenated to the node features (which get
            ``model.hidden`` less the encoders' dims) (default: :obj:`16`)
        k (int, optional): eigenpairs kept: those of the ``k`` smallest eigenvalues, the first
            included (for ``q > 0`` it is not constant) (default: :obj:`8`)
        q (float, optional): the potential: edge ``u -> v`` gets phase
            ``2 pi q (A_uv - A_vu)`` in ``I - D_s^-1/2 (A_s * exp(i Theta)) D_s^-1/2``; :obj:`0`
            gives the undirected symmetric normalised Laplacian (no direction)
            (default: :obj:`0.25`)
        relative (bool, optional): read ``q`` as the relative potential ``q'``: each graph uses
            ``q' / max(min(m, n), 1)`` (``m`` one-way edges, ``n`` nodes; the paper's default)
            (default: :obj:`False`)
        embedding (str, optional): how eigenvectors ``[N, k, 2]`` (real and imaginary parts) and
            eigenvalues ``[N, k]`` become ``[N, dim]``: :obj:`"linear"`, :obj:`"deepset"` or
            :obj:`"signnet"` (see :mod:`graphformers.encoders.eigen_embedding`)
            (default: :obj:`"linear"`)
        eigval (bool, optional): feed the eigenvalues to the embedding as well as the
            eigenvectors (default: :obj:`True`)
        edges (str, optional): the graph attribute holding the directed edges ``[2, E]`` the
            Laplacian is built from (default: :obj:`"edge_index"`)
    """

    def __init__(self, dim: int = 16, k: int = 8, q: float = 0.25, relative: bool = False,
                 embedding: Literal["linear", "deepset", "signnet"] = "linear", eigval: bool = True,
                 edges: str = "edge_index") -> None:
        super().__init__(dim)
        self.k, self.q, self.relative, self.edges = k, q, relative, edges
        self.embedding = build_eigen_embedding(embedding, k, 2, dim, eigval)

    def precompute(self) -> BaseTransform:
        return MagneticLaplacianEigenvectors(self.k, self.q, self.relative, self.edges)

    def forward(self, data: Batch) -> Tensor:
        vectors = torch.stack([data.maglap_real, data.maglap_imag], dim=-1)
        valid = valid_eigenpairs(data.batch, data.num_graphs, self.k, skipped=0)
        return self.embedding(vectors, data.maglap_eigval, valid, data.edge_index)
