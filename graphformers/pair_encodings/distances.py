"""Hop distances of stacks of small graphs, for pair encodings that store or encode them."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import shortest_path
from torch import Tensor

from graphformers.encoders.spectral import symmetrize


def hop_distances(directed: Tensor) -> Tensor:
    """``[B, n, n]`` float64 hop distances on the undirected graphs of ``[B, n, n]`` directed
    adjacencies (``inf`` between components), by breadth-first search (scipy, per graph: ``O(n E)``,
    where distances by matrix products would cost ``O(n^3)`` per hop)."""
    undirected = symmetrize(directed).numpy()
    searched = [shortest_path(sp.csr_matrix(graph), method="D", unweighted=True,
                              directed=False) for graph in undirected]
    if not searched:
        return torch.empty(directed.shape, dtype=torch.float64)
    return torch.from_numpy(np.stack(searched).reshape(directed.shape))
