"""An example graphformers plugin: the ``gated-mean`` mixer and the ``degree`` positional encoding.

Installed, its entry point (group ``graphformers.plugins``) makes both names usable in any recipe.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.utils import scatter

from graphformers import register_encoder, register_mixer
from graphformers.encoders import PositionalEncoder
from graphformers.encoders.precompute import NodeEncoding
from graphformers.mixers import GlobalMixer


@register_mixer("gated-mean")
class GatedMean(GlobalMixer):
    """Each node takes a gated projection of its graph's mean state: O(N) global mixing."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__(hidden, heads, dropout)
        self.value, self.gate = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        mean = scatter(self.value(x), batch, dim=0, dim_size=data.num_graphs, reduce="mean")
        return torch.sigmoid(self.gate(x)) * mean[batch]


class Degrees(NodeEncoding):
    """Stores ``data.degree_pe [N, 2]``: log(1 + in-degree), log(1 + out-degree)."""

    def dense(self, directed: Tensor) -> dict[str, Tensor]:
        degrees = torch.stack([directed.sum(dim=-2), directed.sum(dim=-1)], dim=-1)
        return {"degree_pe": torch.log1p(degrees).float()}

    def sparse(self, edge_index: Tensor, num_nodes: int) -> dict[str, Tensor]:
        ones = torch.ones(edge_index.size(1))
        degrees = torch.stack([scatter(ones, edge_index[1], dim_size=num_nodes, reduce="sum"),
                               scatter(ones, edge_index[0], dim_size=num_nodes, reduce="sum")], dim=-1)
        return {"degree_pe": torch.log1p(degrees).float()}

    def __repr__(self) -> str:
        return "Degrees()"


@register_encoder("degree")
class DegreePE(PositionalEncoder):
    """Log in/out-degrees of each node, linearly embedded to ``dim`` channels."""

    def __init__(self, dim: int = 8) -> None:
        super().__init__(dim)
        self.linear = nn.Linear(2, dim)

    def precompute(self) -> Degrees:
        return Degrees()

    def forward(self, data: Batch) -> Tensor:
        return self.linear(data.degree_pe)
