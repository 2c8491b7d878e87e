"""Random regular expander graphs, precomputed once per graph for the Exphormer mixer."""
from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from graphformers.errors import PartOptionError


def random_regular_multigraph(num_nodes: int, degree: int, rng: np.random.Generator) -> Tensor:
    """``[2, num_nodes * degree]`` directed edges of a random ``degree``-regular multigraph (both directions).

    Configuration model: every node gets ``degree`` stubs and a random perfect matching pairs
    them, so each node has exactly ``degree`` neighbours counted with multiplicity (self-loops
    and repeated pairs are rare for large graphs and kept, as in Exphormer). When
    ``num_nodes * degree`` is odd, one stub is left unmatched and one node has ``degree - 1``.
    """
    stubs = rng.permutation(np.repeat(np.arange(num_nodes), degree))
    pairs = stubs[: len(stubs) // 2 * 2].reshape(-1, 2).T
    return torch.from_numpy(np.concatenate([pairs, pairs[::-1]], axis=1)).long()


def is_connected(edge_index: Tensor, num_nodes: int) -> bool:
    """Whether the undirected graph spanned by ``edge_index`` is connected."""
    ones = np.ones(edge_index.size(1))
    adjacency = sp.coo_matrix((ones, (edge_index[0].numpy(), edge_index[1].numpy())), shape=(num_nodes, num_nodes))
    return connected_components(adjacency, directed=False)[0] == 1


class ExpanderEdges(BaseTransform):
    """Stores ``data.expander_edge_index`` ``[2, N * degree]``: a connected random ``degree``-regular graph.

    The random draw is seeded by ``seed`` and a hash of the graph's own edges and size, so the
    same graph always gets the same expander, in any order and in any process. Draws that
    come out disconnected are redrawn (up to ``attempts`` times; rare for ``degree >= 3``).
    """

    def __init__(self, degree: int = 3, seed: int = 0, attempts: int = 20) -> None:
        if degree < 1:
            raise PartOptionError(f"ExpanderEdges: degree must be >= 1, got {degree}.")
        self.degree, self.seed, self.attempts = degree, seed, attempts

    def forward(self, data: Data) -> Data:
        num_nodes = data.num_nodes
        digest = hashlib.blake2b(data.edge_index.numpy().tobytes() + num_nodes.to_bytes(8, "little"), digest_size=8)
        rng = np.random.default_rng([self.seed, int.from_bytes(digest.digest(), "little")])
        for _ in range(self.attempts):
            edges = random_regular_multigraph(num_nodes, self.degree, rng)
            if num_nodes < 3 or is_connected(edges, num_nodes):
                break
        data.expander_edge_index = edges
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(degree={self.degree}, seed={self.seed})"
