"""Random-walk structural encoding (RWSE; Dwivedi et al. 2022): landing probabilities ``diag(P^t)``."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.transforms import BaseTransform

from graphformers.encoders.base import PositionalEncoder
from graphformers.encoders.spectral import dense_symmetric_adjacency, random_walk_matrix
from graphformers.registry import register_encoder


class RandomWalkLandingProbabilities(BaseTransform):
    """Stores ``data.rwse`` ``[N, steps]``: the probability of a random walk returning after ``t = 1..steps`` steps.

    ``P = D^-1 A`` on the undirected graph; an isolated node's walk stays put with
    probability 0 (its row of ``P`` is zero), as in PyG's ``AddRandomWalkPE``. Dense
    matrix powers: meant for graphs up to a few thousand nodes.
    """

    def __init__(self, steps: int) -> None:
        if steps < 1:
            raise ValueError(f"RandomWalkLandingProbabilities: steps must be >= 1, got {steps}.")
        self.steps = steps

    def forward(self, data: Data) -> Data:
        transition = random_walk_matrix(dense_symmetric_adjacency(data.edge_index, data.num_nodes))
        power = transition
        diagonals = []
        for _ in range(self.steps):
            diagonals.append(power.diagonal())
            power = power @ transition
        data.rwse = torch.stack(diagonals, dim=-1).float()
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(steps={self.steps})"


@register_encoder("rwse")
class RWSE(PositionalEncoder):
    """Random-walk return probabilities for 1..steps steps, linearly embedded."""

    def __init__(self, dim: int = 16, steps: int = 16) -> None:
        super().__init__(dim)
        self.steps = steps
        self.linear = nn.Linear(steps, dim)

    def precompute(self) -> BaseTransform:
        return RandomWalkLandingProbabilities(self.steps)

    def forward(self, data: Batch) -> Tensor:
        return self.linear(data.rwse)
