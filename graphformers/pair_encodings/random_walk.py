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

    def dense(self, directed: Tensor) -> Tensor:
        adjacency = symmetrize(directed)
        degree = adjacency.sum(dim=-1, keepdim=True)
        walk = torch.where(degree > 0, adjacency / degree.clamp(min=1), torch.zeros_like(adjacency))
        powers = [torch.eye(adjacency.size(-1), dtype=adjacency.dtype).expand_as(adjacency)]
        while len(powers) < self.steps:
            powers.append(walk if len(powers) == 1 else powers[-1] @ walk)
        return torch.stack(powers, dim=-1).float()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(steps={self.steps})"
