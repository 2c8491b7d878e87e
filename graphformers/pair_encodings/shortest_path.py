"""Shortest-path distance between node pairs (Graphormer, Ying et al. 2021), capped, as a category per pair."""
from __future__ import annotations

import torch
from torch import Tensor

from graphformers.errors import PartOptionError
from graphformers.pair_encodings.base import PairEncoding
from graphformers.pair_encodings.distances import hop_distances
from graphformers.registry import register_pair_encoding


@register_pair_encoding("spd")
class ShortestPathDistance(PairEncoding):
    """Stores ``spd_index [2, N^2]`` / ``spd_attr [N^2, 1]`` for every pair of each graph: the hop
    distance on the undirected graph, capped at ``max_distance``; ``max_distance + 1`` for pairs
    in different components. The values are categories ``0 .. max_distance + 1``
    (:attr:`categories`), which Graphormer's attention bias embeds (``mixer: {name: full, bias: spd}``).

    Args:
        max_distance (int, optional): distances above it are stored as it (Graphormer's
            ``multi_hop_max_dist``) (default: :obj:`20`)
    """

    key = "spd"

    def __init__(self, max_distance: int = 20) -> None:
        if max_distance < 1:
            raise PartOptionError(f"spd: max_distance must be >= 1, got {max_distance}.")
        self.max_distance = max_distance

    @property
    def channels(self) -> int:
        return 1

    @property
    def categories(self) -> int:
        return self.max_distance + 2

    def dense(self, directed: Tensor) -> Tensor:
        distances = hop_distances(directed)
        capped = torch.where(torch.isinf(distances), self.max_distance + 1, distances.clamp(max=self.max_distance))
        return capped.float().unsqueeze(-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_distance={self.max_distance})"
