"""Embeddings of eigenvector features into ``dim`` channels, shared by the Laplacian encodings.

Every embedding maps ``vectors [N, k, c]`` (``c`` channels per eigenvector: 1 for real
eigenvectors, 2 for the real and imaginary parts of complex ones), ``values [N, k]`` (each
node's copy of its graph's eigenvalues) and ``valid [N, k]`` (False where a graph has fewer
than ``k`` eigenpairs and the slot is padding) to ``[N, dim]``:

* ``linear``: concatenation then a linear map (GraphGPS's LapPE default). Depends on the
  arbitrary eigenvector signs: train with random sign flips.
* ``deepset``: ``rho(sum_j phi([v_j, lambda_j]))`` over the valid eigenpairs (GraphGPS's
  ``DeepSet``): invariant to the order of eigenpairs, not to signs.
* ``signnet``: ``rho([phi(v_j) + phi(-v_j)]_j)`` with ``phi`` a GIN over the graph applied to
  each eigenvector separately (Lim et al. 2022, "Sign and Basis Invariant Networks"):
  invariant to every eigenvector's sign by construction, while the GIN keeps the relative
  signs of neighbouring nodes that an elementwise ``phi`` would lose.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import degree, scatter

from graphformers.errors import PartOptionError


class LinearEigenEmbedding(nn.Module):
    """Concatenated eigenvectors (and eigenvalues) -> linear."""

    sign_invariant = False

    def __init__(self, k: int, channels: int, dim: int, eigval: bool = True) -> None:
        super().__init__()
        self.eigval = eigval
        self.linear = nn.Linear(k * channels + (k if eigval else 0), dim)

    def forward(self, vectors: Tensor, values: Tensor, valid: Tensor, edge_index: Tensor) -> Tensor:
        features = [(vectors * valid[..., None]).flatten(1)] + ([values * valid] if self.eigval else [])
        return self.linear(torch.cat(features, dim=-1))


class DeepSetEigenEmbedding(nn.Module):
    """``rho(sum over valid eigenpairs of phi([v_j, lambda_j]))``."""

    sign_invariant = False

    def __init__(self, k: int, channels: int, dim: int, eigval: bool = True, hidden: int = 32) -> None:
        super().__init__()
        self.eigval = eigval
        self.phi = nn.Sequential(nn.Linear(channels + int(eigval), hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU())
        self.rho = nn.Linear(hidden, dim)

    def forward(self, vectors: Tensor, values: Tensor, valid: Tensor, edge_index: Tensor) -> Tensor:
        pairs = torch.cat([vectors, values[..., None]], dim=-1) if self.eigval else vectors
        return self.rho((self.phi(pairs) * valid[..., None]).sum(dim=1))


class EigenvectorGIN(nn.Module):
    """GIN layers run on each eigenvector as its own node signal: ``[N, k, in] -> [N, k, hidden]``."""

    def __init__(self, in_channels: int, hidden: int, layers: int = 2) -> None:
        super().__init__()
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(in_channels if i == 0 else hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
            for i in range(layers)
        )
        self.eps = nn.Parameter(torch.zeros(layers))

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        for i, mlp in enumerate(self.mlps):
            neighbours = scatter(x.index_select(0, edge_index[0]), edge_index[1], dim=0, dim_size=x.size(0),
                                 reduce="sum")
            x = mlp((1 + self.eps[i]) * x + neighbours)
            if i < len(self.mlps) - 1:
                x = torch.relu(x)
        return x


class SignNetEigenEmbedding(nn.Module):
    """``rho([phi(v_j, lambda_j) + phi(-v_j, lambda_j)]_j)``: invariant to each eigenvector's sign."""

    sign_invariant = True

    def __init__(self, k: int, channels: int, dim: int, eigval: bool = True, hidden: int = 16, layers: int = 2) -> None:
        super().__init__()
        self.eigval = eigval
        self.phi = EigenvectorGIN(channels + int(eigval), hidden, layers)
        self.rho = nn.Sequential(nn.Linear(k * hidden, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, vectors: Tensor, values: Tensor, valid: Tensor, edge_index: Tensor) -> Tensor:
        extra = [values[..., None]] if self.eigval else []
        positive = self.phi(torch.cat([vectors] + extra, dim=-1), edge_index)
        negative = self.phi(torch.cat([-vectors] + extra, dim=-1), edge_index)
        return self.rho(((positive + negative) * valid[..., None]).flatten(1))


EIGEN_EMBEDDINGS = {"linear": LinearEigenEmbedding, "deepset": DeepSetEigenEmbedding, "signnet": SignNetEigenEmbedding}


def build_eigen_embedding(name: str, k: int, channels: int, dim: int, eigval: bool) -> nn.Module:
    """The embedding called ``name`` (a key of :data:`EIGEN_EMBEDDINGS`)."""
    if name not in EIGEN_EMBEDDINGS:
        raise PartOptionError(f"unknown eigenvector embedding {name!r}; choose one of {', '.join(EIGEN_EMBEDDINGS)}.")
    return EIGEN_EMBEDDINGS[name](k, channels, dim, eigval)


def valid_eigenpairs(batch: Tensor, num_graphs: int, k: int, skipped: int) -> Tensor:
    """``[N, k]`` bool: slot ``j`` holds a real eigenpair for a node whose graph has more than
    ``j + skipped`` nodes (``skipped`` leading eigenpairs were dropped, e.g. the trivial one)."""
    sizes = degree(batch, num_graphs, dtype=torch.long)  # a scatter: unlike bincount, no read of the size on the host
    return torch.arange(k, device=batch.device) < (sizes[batch] - skipped)[:, None]
