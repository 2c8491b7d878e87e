"""Graph matrices behind the spectral and random-walk encodings.

Dense functions take a stack of same-size graphs, ``[..., n, n]``, so many small graphs
share one batched LAPACK call; sparse ones (``scipy``) serve graphs too big to densify.
Conventions match PyG's ``get_laplacian``: an isolated node has ``L_ii = 1`` and a zero
row in the random-walk matrix.
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

Normalization = Literal["sym", "rw", "none"]
ARPACK_TOL = 1e-8
"""Relative accuracy asked of ``scipy.sparse.linalg.eigsh`` in float64: residuals ~1e-10, far below the
float32 the encodings are stored in, at about half the iterations of the default (machine precision)."""


def dense_directed_adjacency(edge_index: Tensor, graph: Tensor, num_graphs: int, num_nodes: int) -> Tensor:
    """``[num_graphs, n, n]`` float64 0/1 adjacency, ``A[g, u, v] = 1`` for an edge ``u -> v`` of graph ``g``.

    ``edge_index`` ``[2, E]`` holds node indices local to each graph, ``graph`` ``[E]`` the
    graph of each edge; self loops and repeated edges are dropped.
    """
    adjacency = torch.zeros(num_graphs, num_nodes, num_nodes, dtype=torch.float64)
    adjacency[graph, edge_index[0], edge_index[1]] = 1.0
    adjacency.diagonal(dim1=-2, dim2=-1).zero_()
    return adjacency


def symmetrize(directed: Tensor) -> Tensor:
    """The undirected 0/1 adjacency ``max(A, A^T)`` of ``[..., n, n]`` directed ones."""
    return torch.maximum(directed, directed.transpose(-2, -1))


def inverse_sqrt_degree(adjacency: Tensor) -> Tensor:
    """``[..., n]`` ``d^-1/2`` with 0 for isolated nodes."""
    degree = adjacency.sum(dim=-1)
    return torch.where(degree > 0, degree.clamp(min=1e-12).rsqrt(), torch.zeros_like(degree))


def laplacian(adjacency: Tensor, normalization: Normalization = "sym") -> Tensor:
    """Symmetric ``[..., n, n]`` Laplacian whose eigenvectors give the ``normalization``'s.

    ``sym``: ``I - D^-1/2 A D^-1/2``; ``none``: ``D - A``; ``rw`` returns the ``sym`` matrix,
    which is similar to ``I - D^-1 A`` (see :func:`random_walk_eigenvectors`).
    """
    if normalization == "none":
        return torch.diag_embed(adjacency.sum(dim=-1)) - adjacency
    inv_sqrt = inverse_sqrt_degree(adjacency)
    identity = torch.eye(adjacency.size(-1), dtype=adjacency.dtype)
    return identity - inv_sqrt[..., :, None] * adjacency * inv_sqrt[..., None, :]


def random_walk_eigenvectors(eigvecs: Tensor, adjacency_degree: Tensor) -> Tensor:
    """Eigenvectors of ``I - D^-1 A`` from those ``u`` of ``I - D^-1/2 A D^-1/2``: ``D^-1/2 u``, unit norm.

    The two matrices are similar (``L_rw = D^-1/2 L_sym D^1/2``), so this is exact where
    ``eigh`` on the non-symmetric ``L_rw`` would not be. ``adjacency_degree`` ``[..., n]``;
    isolated nodes count as degree 1, keeping their ``L_ii = 1`` eigenvector.
    """
    scale = torch.where(adjacency_degree > 0, adjacency_degree, torch.ones_like(adjacency_degree)).rsqrt()
    vectors = scale[..., :, None] * eigvecs
    return vectors / torch.linalg.vector_norm(vectors, dim=-2, keepdim=True).clamp(min=1e-12)


def magnetic_laplacian(directed: Tensor, q: Tensor | float) -> Tensor:
    """``[..., n, n]`` complex128 Hermitian ``I - D_s^-1/2 (A_s * exp(i Theta)) D_s^-1/2`` (Geisler et al. 2023).

    ``directed`` is the 0/1 directed adjacency, ``A_s`` its symmetrisation, ``D_s`` the degrees
    of ``A_s`` and ``Theta_uv = 2 pi q (A_uv - A_vu)``: an edge's direction becomes a phase,
    so reversing every edge conjugates the matrix. ``q`` is a float or one per graph
    (``[...]``). At ``q = 0`` this is the symmetric normalised Laplacian.
    """
    q = torch.as_tensor(q, dtype=directed.dtype)
    symmetric = symmetrize(directed)
    phases = torch.polar(symmetric, 2 * math.pi * q[..., None, None] * (directed - directed.transpose(-2, -1)))
    inv_sqrt = inverse_sqrt_degree(symmetric).to(phases.dtype)
    identity = torch.eye(directed.size(-1), dtype=phases.dtype)
    return identity - inv_sqrt[..., :, None] * phases * inv_sqrt[..., None, :]


def relative_potential(directed: Tensor, q_relative: float) -> Tensor:
    """Per-graph ``q = q' / max(min(m, n), 1)`` for ``[..., n, n]`` directed adjacencies.

    ``m`` counts the purely directed edges (no reverse edge) and ``n`` the nodes: the
    relative potential of Geisler et al. (2023), which keeps the phase a walk can gather
    comparable across graph sizes.
    """
    one_way = (directed * (1 - directed.transpose(-2, -1))).sum(dim=(-2, -1))
    scale = torch.clamp(torch.minimum(one_way, torch.full_like(one_way, directed.size(-1))), min=1.0)
    return q_relative / scale


def sparse_adjacency(edge_index: Tensor, num_nodes: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``(directed, symmetric)`` float64 0/1 CSR adjacencies without self loops or duplicates."""
    source, target = edge_index.numpy()
    keep = source != target
    directed = sp.csr_matrix((np.ones(int(keep.sum())), (source[keep], target[keep])), shape=(num_nodes, num_nodes))
    directed.sum_duplicates()
    directed.data[:] = 1.0
    symmetric = directed.maximum(directed.T).tocsr()
    return directed, symmetric


def sparse_laplacian(symmetric: sp.csr_matrix, normalization: Normalization = "sym") -> sp.csr_matrix:
    """Sparse counterpart of :func:`laplacian`."""
    degree = np.asarray(symmetric.sum(axis=1)).ravel()
    if normalization == "none":
        return (sp.diags(degree) - symmetric).tocsr()
    inv_sqrt = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
    scaled = sp.diags(inv_sqrt) @ symmetric @ sp.diags(inv_sqrt)
    return (sp.identity(symmetric.shape[0], format="csr") - scaled).tocsr()


def sparse_magnetic_laplacian(directed: sp.csr_matrix, symmetric: sp.csr_matrix, q: float) -> sp.csr_matrix:
    """Sparse counterpart of :func:`magnetic_laplacian` (complex128 CSR)."""
    antisymmetric = (directed - directed.T).tocsr()
    phase = symmetric.astype(np.complex128).tocsr()
    coo = phase.tocoo()
    direction = np.asarray(antisymmetric[coo.row, coo.col]).ravel()
    phase = sp.csr_matrix((np.exp(2j * math.pi * q * direction), (coo.row, coo.col)), shape=phase.shape)
    degree = np.asarray(symmetric.sum(axis=1)).ravel()
    inv_sqrt = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
    return (sp.identity(directed.shape[0], format="csr") - sp.diags(inv_sqrt) @ phase @ sp.diags(inv_sqrt)).tocsr()


def padded_eigenpairs(eigvals: Tensor, eigvecs: Tensor, start: int, k: int) -> tuple[Tensor, Tensor]:
    """Eigenpairs ``start .. start + k - 1`` of ``[..., n]`` values and ``[..., n, n]`` vectors as
    ``(vectors [..., n, k], values [..., n, k])``, zero-padded where the graphs have fewer;
    eigenvalues are repeated on every node so they batch like node features."""
    num_nodes = eigvecs.size(-2)
    kept = max(0, min(k, eigvecs.size(-1) - start))
    vectors = eigvecs.new_zeros(*eigvecs.shape[:-1], k)
    values = eigvals.new_zeros(*eigvals.shape[:-1], k)
    vectors[..., :kept] = eigvecs[..., start : start + kept]
    values[..., :kept] = eigvals[..., start : start + kept]
    return vectors, values[..., None, :].expand(*values.shape[:-1], num_nodes, k).clone()
