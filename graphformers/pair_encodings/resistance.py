"""Effective resistance between node pairs (the encoding Exphormer gives its edges)."""
from __future__ import annotations

import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from torch import Tensor

from graphformers.encoders.spectral import laplacian, symmetrize
from graphformers.pair_encodings.base import PairEncoding
from graphformers.registry import register_pair_encoding

NOT_CONNECTED = -1.0
"""Stored for pairs in different components (whose resistance is infinite)."""


@register_pair_encoding("resistance")
class EffectiveResistance(PairEncoding):
    """Stores ``resistance_index [2, N^2]`` / ``resistance_attr [N^2, 1]`` for every pair of each graph:
    ``R_ij = L+_ii + L+_jj - 2 L+_ij`` with ``L+`` the pseudo-inverse of the combinatorial Laplacian
    ``D - A`` of the undirected graph (unit resistors on the edges; 0 on the diagonal), and ``-1`` for
    pairs in different components. ``L+`` comes from one batched ``eigh`` per stack of same-size
    graphs; the Laplacian is block-diagonal over components, so its pseudo-inverse is too, and
    ``R`` is exact within each component.
    """

    key = "resistance"

    @property
    def channels(self) -> int:
        return 1

    def dense(self, directed: Tensor) -> Tensor:
        adjacency = symmetrize(directed)
        eigenvalues, eigenvectors = torch.linalg.eigh(laplacian(adjacency, "none"))
        tolerance = 1e-9 * max(adjacency.size(-1), 1)
        inverted = torch.where(eigenvalues > tolerance, 1.0 / eigenvalues.clamp(min=tolerance),
                               torch.zeros_like(eigenvalues))
        pseudo_inverse = (eigenvectors * inverted[..., None, :]) @ eigenvectors.transpose(-2, -1)
        diagonal = pseudo_inverse.diagonal(dim1=-2, dim2=-1)
        resistance = diagonal[..., :, None] + diagonal[..., None, :] - 2 * pseudo_inverse
        labels = torch.stack([torch.from_numpy(connected_components(sp.csr_matrix(graph.numpy()), directed=False)[1])
                              for graph in adjacency]).view(adjacency.shape[:-1])
        connected = labels[..., :, None] == labels[..., None, :]
        resistance = torch.where(connected, resistance.clamp(min=0), NOT_CONNECTED)
        return resistance.float().unsqueeze(-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
