"""Laplacian eigenvector positional encoding (Dwivedi et al. 2020; GraphGPS's ``LapPE``)."""
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
    Normalization,
    laplacian,
    padded_eigenpairs,
    random_walk_eigenvectors,
    sparse_adjacency,
    sparse_laplacian,
    symmetrize,
)
from graphformers.errors import PartOptionError
from graphformers.registry import register_positional_encoder

NORMALIZATIONS = ("sym", "rw", "none")


class LaplacianEigenvectors(NodeEncoding):
    """Stores the ``k`` smallest eigenpairs of the graph Laplacian after the first (trivial) one.

    Sets ``data.lap_eigvec`` ``[N, k]`` and ``data.lap_eigval`` ``[N, k]`` (the eigenvalues,
    repeated on every node so they batch like node features). ``normalization``: ``sym``
    (``I - D^-1/2 A D^-1/2``), ``rw`` (``I - D^-1 A``, eigenvectors ``D^-1/2 u`` scaled to unit
    norm) or ``none`` (``D - A``). Unlike PyG's ``AddLaplacianEigenvectorPE``, graphs with
    ``N <= k`` are zero-padded instead of rejected. The graph is treated as undirected.
    """

    def __init__(self, k: int, normalization: Normalization = "sym") -> None:
        if k < 1:
            raise PartOptionError(f"LaplacianEigenvectors: k must be >= 1, got {k}.")
        if normalization not in NORMALIZATIONS:
            raise PartOptionError(f"LaplacianEigenvectors: normalization must be one of {NORMALIZATIONS}, got "
                                  f"{normalization!r}.")
        self.k, self.normalization = k, normalization

    @property
    def channels_per_node(self) -> int:
        return 2 * self.k  # lap_eigvec and lap_eigval

    def dense(self, directed: Tensor) -> dict[str, Tensor]:
        adjacency = symmetrize(directed)
        eigvals, eigvecs = torch.linalg.eigh(laplacian(adjacency, self.normalization))
        return self._encoding(eigvals, eigvecs, adjacency.sum(dim=-1))

    def sparse(self, edge_index: Tensor, num_nodes: int) -> dict[str, Tensor]:
        if num_nodes <= self.k + 2:
            return dense_fallback(self, edge_index, num_nodes)
        _, adjacency = sparse_adjacency(edge_index, num_nodes)
        start = np.random.default_rng(0).standard_normal(num_nodes)
        eigvals, eigvecs = spla.eigsh(sparse_laplacian(adjacency, self.normalization), k=self.k + 1, which="SA",
                                     v0=start, tol=ARPACK_TOL)
        order = np.argsort(eigvals)
        degree = torch.from_numpy(np.asarray(adjacency.sum(axis=1)).ravel())
        return self._encoding(torch.from_numpy(eigvals[order]), torch.from_numpy(eigvecs[:, order]), degree)

    def _encoding(self, eigvals: Tensor, eigvecs: Tensor, degree: Tensor) -> dict[str, Tensor]:
        if self.normalization == "rw":
            eigvecs = random_walk_eigenvectors(eigvecs, degree)
        vectors, values = padded_eigenpairs(eigvals, eigvecs, start=1, k=self.k)
        return {"lap_eigvec": vectors.float(), "lap_eigval": values.float()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k}, normalization={self.normalization!r})"


@register_positional_encoder("lap")
class LapPE(PositionalEncoder):
    """Laplacian eigenvectors (and eigenvalues) embedded by ``linear``, ``deepset`` or ``signnet``.

    Embeddings that are not sign-invariant see each eigenvector's sign flipped at random
    in training (one draw per graph and eigenvector), since the sign is arbitrary.

    ``forward(data) -> [N, dim]`` reads ``data.lap_eigvec [N, k]`` and ``data.lap_eigval [N, k]``,
    stored by the :meth:`precompute` transform (:class:`LaplacianEigenvectors`); slots beyond a
    small graph's eigenpairs are zero-padded and masked.

    Args:
        dim (int, optional): output channels, concatenated to the node features (which get
            ``model.hidden`` less the encoders' dims) (default: :obj:`16`)
        k (int, optional): eigenpairs kept: those of the ``k`` smallest eigenvalues after the
            first (trivial) one (default: :obj:`8`)
        normalization (str, optional): the Laplacian: :obj:`"sym"` (``I - D^-1/2 A D^-1/2``),
            :obj:`"rw"` (``I - D^-1 A``, eigenvectors ``D^-1/2 u`` scaled to unit norm) or
            :obj:`"none"` (``D - A``), of the graph made undirected (default: :obj:`"sym"`)
        embedding (str, optional): how eigenvectors ``[N, k, 1]`` and eigenvalues ``[N, k]``
            become ``[N, dim]``: :obj:`"linear"` (concatenation, then linear), :obj:`"deepset"`
            (sum over eigenpairs of an MLP, then linear) or :obj:`"signnet"` (sign-invariant GIN
            per eigenvector; see :mod:`graphformers.encoders.eigen_embedding`)
            (default: :obj:`"linear"`)
        eigval (bool, optional): feed the eigenvalues to the embedding as well as the
            eigenvectors (default: :obj:`True`)
    """

    def __init__(self, dim: int = 16, k: int = 8, normalization: Normalization = "sym",
                 embedding: Literal["linear", "deepset", "signnet"] = "linear", eigval: bool = True) -> None:
        super().__init__(dim)
        self.k, self.normalization = k, normalization
        self.embedding = build_eigen_embedding(embedding, k, 1, dim, eigval)

    def precompute(self) -> BaseTransform:
        return LaplacianEigenvectors(self.k, self.normalization)

    def forward(self, data: Batch) -> Tensor:
        eigvec = data.lap_eigvec
        if self.training and not self.embedding.sign_invariant:
            signs = torch.randint(0, 2, (data.num_graphs, self.k), device=eigvec.device) * 2 - 1
            eigvec = eigvec * signs[data.batch]
        valid = valid_eigenpairs(data.batch, data.num_graphs, self.k, skipped=1)
        return self.embedding(eigvec[..., None], data.lap_eigval, valid, data.edge_index)
