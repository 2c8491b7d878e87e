"""Relative random-walk probabilities (RRWP; Ma et al. 2023, GRIT): ``[I, M, M^2, ..., M^(K-1)]``, ``M = D^-1 A``."""
from __future__ import annotations

import torch
from torch import Tensor

from graphformers.encoders.spectral import symmetrize
from graphformers.errors import PartOptionError
from graphformers.pair_encodings.base import PairEncoding
from graphformers.registry import register_pair_encoding


@register_pair_encoding("rrwp")
class RRWP(PairEncoding):
    """Stores ``rrwp_index [2, P]`` / ``rrwp_attr [P, steps]``: for target ``i`` and source ``j``,
    the probabilities ``M^k[i, j]``, ``k = 0 .. steps - 1``, that a random walk from ``i`` is at ``j``
    after ``k`` steps (``M = D^-1 A`` on the undirected graph; an isolated node's row of ``M`` is
    zero, as in GRIT and PyG's ``AddRandomWalkPE``).

    Every pair of a connected graph is at most ``steps - 1`` hops apart or has only zeros, so the
    pairs within ``steps - 1`` hops are stored (as GRIT's precompute stores the non-zero ones) and
    the others are zero. The diagonal, ``k = 1 ..``, is RWSE.

    Args:
        steps (int, optional): ``K``, channels per pair: the identity and ``K - 1`` powers
            (GRIT's ``posenc_RRWP.ksteps``) (default: :obj:`8`)
    """

    key = "rrwp"

    def __init__(self, steps: int = 8) -> None:
        if steps < 1:
            raise PartOptionError(f"rrwp: steps must be >= 1, got {steps}.")
        self.steps = steps

    @property
    def channels(self) -> int:
        return self.steps

    @property
    def hops(self) -> int:
        return self.steps - 1

    def stored_pairs(self, directed: Tensor, values: Tensor) -> Tensor:
        """The pairs with a non-zero value: the same as those within ``steps - 1`` hops (at distance
        ``d``, ``M^d[i, j] > 0``), read from the (non-negative) values instead of a search."""
        return values.sum(dim=-1) > 0

    def dense(self, directed: Tensor) -> Tensor:
        """``M^k = M M^(k-1)`` for the whole stack at once, as one block-diagonal sparse ``M`` times the
        stacked dense powers: ``O(B n^2 deg)`` per step where dense products cost ``O(B n^3)`` (on
        Peptides, ~70x fewer multiplications), written in place into one ``[steps, B n, n]`` tensor.
        In float32, as GRIT computes it (non-negative terms: no cancellation)."""
        adjacency = symmetrize(directed).float()
        graphs, n, _ = adjacency.shape
        degree = adjacency.sum(dim=-1, keepdim=True)
        walk = torch.where(degree > 0, adjacency / degree.clamp(min=1), torch.zeros_like(adjacency))
        graph, row, column = walk.nonzero(as_tuple=True)
        block_diagonal = torch.sparse_coo_tensor(torch.stack([graph * n + row, graph * n + column]),
                                                 walk[graph, row, column], (graphs * n, graphs * n),
                                                 check_invariants=False).to_sparse_csr()  # built valid
        powers = torch.empty(self.steps, graphs * n, n)
        powers[0] = torch.eye(n).repeat(graphs, 1)
        for k in range(1, self.steps):
            torch.mm(block_diagonal, powers[k - 1], out=powers[k])
        return powers.view(self.steps, graphs, n, n).permute(1, 2, 3, 0)  # channels-last view, no copy

    def __repr__(self) -> str:
        return f"{type(self).__name__}(steps={self.steps})"
