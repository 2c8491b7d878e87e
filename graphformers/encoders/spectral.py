"""Dense graph matrices for small graphs, shared by the spectral and random-walk encodings."""
from __future__ import annotations

import math

import torch
from torch import Tensor


def dense_symmetric_adjacency(edge_index: Tensor, num_nodes: int) -> Tensor:
    """``[N, N]`` float64 0/1 adjacency of the undirected graph, without self loops."""
    adjacency = torch.zeros(num_nodes, num_nodes, dtype=torch.float64, device=edge_index.device)
    adjacency[edge_index[0], edge_index[1]] = 1.0
    adjacency = torch.maximum(adjacency, adjacency.T)
    adjacency.fill_diagonal_(0.0)
    return adjacency


def symmetric_normalized_laplacian(adjacency: Tensor) -> Tensor:
    """``I - D^-1/2 A D^-1/2``; isolated nodes get ``L_ii = 1`` (PyG's ``get_laplacian`` convention)."""
    degree = adjacency.sum(dim=1)
    inv_sqrt = torch.where(degree > 0, degree.clamp(min=1e-12).rsqrt(), torch.zeros_like(degree))
    identity = torch.eye(adjacency.size(0), dtype=adjacency.dtype, device=adjacency.device)
    return identity - inv_sqrt[:, None] * adjacency * inv_sqrt[None, :]


def random_walk_matrix(adjacency: Tensor) -> Tensor:
    """``D^-1 A``; rows of isolated nodes stay zero."""
    degree = adjacency.sum(dim=1, keepdim=True)
    return torch.where(degree > 0, adjacency / degree.clamp(min=1.0), torch.zeros_like(adjacency))


def magnetic_laplacian(edge_index: Tensor, num_nodes: int, q: float) -> Tensor:
    """``[N, N]`` complex128 Hermitian ``I - D_s^-1/2 (A_s * exp(i Theta)) D_s^-1/2`` (Geisler et al. 2023).

    ``A_s`` is the symmetrised 0/1 adjacency, ``D_s`` its degrees and
    ``Theta_uv = 2 pi q (A_uv - A_vu)``: an edge's direction becomes a phase, so reversing every
    edge conjugates the matrix. At ``q = 0`` this is the symmetric normalised Laplacian.
    Isolated nodes get ``L_ii = 1`` as in :func:`symmetric_normalized_laplacian`.
    """
    directed = torch.zeros(num_nodes, num_nodes, dtype=torch.float64, device=edge_index.device)
    directed[edge_index[0], edge_index[1]] = 1.0
    directed.fill_diagonal_(0.0)
    symmetric = torch.maximum(directed, directed.T)
    phases = torch.polar(symmetric, 2 * math.pi * q * (directed - directed.T))
    degree = symmetric.sum(dim=1)
    inv_sqrt = torch.where(degree > 0, degree.clamp(min=1e-12).rsqrt(), torch.zeros_like(degree)).to(phases.dtype)
    identity = torch.eye(num_nodes, dtype=phases.dtype, device=phases.device)
    return identity - inv_sqrt[:, None] * phases * inv_sqrt[None, :]


def padded_eigenpairs(eigvals: Tensor, eigvecs: Tensor, start: int, k: int) -> tuple[Tensor, Tensor]:
    """Eigenpairs ``start .. start + k - 1`` as ``(vectors [N, k], values [N, k])``, zero-padded when
    the graph has fewer; eigenvalues are repeated on every node so they batch like node features."""
    num_nodes = eigvecs.size(0)
    kept = max(0, min(k, num_nodes - start))
    vectors = eigvecs.new_zeros(num_nodes, k)
    values = eigvals.new_zeros(k)
    vectors[:, :kept] = eigvecs[:, start : start + kept]
    values[:kept] = eigvals[start : start + kept]
    return vectors, values.expand(num_nodes, -1).clone()
