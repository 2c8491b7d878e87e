"""Graphormer's centrality encoding (Ying et al. 2021, eq. 5): learned embeddings of in- and out-degree."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform
from torch_geometric.utils import degree

from graphformers.encoders.base import PositionalEncoder
from graphformers.encoders.precompute import NodeEncoding
from graphformers.errors import PartOptionError
from graphformers.registry import register_positional_encoder


class NodeDegrees(NodeEncoding):
    """Stores ``data.degrees`` ``[N, 2]``: each node's in- and out-degree (edges as stored, self
    loops and repeated edges dropped, as in the dense adjacency every node encoding reads)."""

    @property
    def channels_per_node(self) -> int:
        return 2

    def dense(self, directed: Tensor) -> dict[str, Tensor]:
        return {"degrees": torch.stack([directed.sum(dim=-2), directed.sum(dim=-1)], dim=-1).float()}

    def sparse(self, edge_index: Tensor, num_nodes: int) -> dict[str, Tensor]:
        edge_index = torch.unique(edge_index[:, edge_index[0] != edge_index[1]], dim=1)
        return {"degrees": torch.stack([degree(edge_index[1], num_nodes), degree(edge_index[0], num_nodes)], dim=-1)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@register_positional_encoder("degree")
class DegreeEncoding(PositionalEncoder):
    """Graphormer's centrality encoding: ``z_in[deg_in(i)] + z_out[deg_out(i)]``, degrees above
    ``max_degree`` sharing its embedding (Graphormer's ``num_in_degree`` / ``num_out_degree`` cap).

    ``forward(data) -> [N, dim]`` reads ``data.degrees [N, 2]``, stored by :meth:`precompute`
    (:class:`NodeDegrees`).

    Args:
        dim (int, optional): output channels (default: :obj:`16`)
        max_degree (int, optional): largest degree with its own embedding (default: :obj:`64`)
    """

    def __init__(self, dim: int = 16, max_degree: int = 64) -> None:
        super().__init__(dim)
        if max_degree < 1:
            raise PartOptionError(f"degree: max_degree must be >= 1, got {max_degree}.")
        self.max_degree = max_degree
        self.in_degree = nn.Embedding(max_degree + 1, dim)
        self.out_degree = nn.Embedding(max_degree + 1, dim)

    def precompute(self) -> BaseTransform:
        return NodeDegrees()

    def forward(self, data: Batch) -> Tensor:
        degrees = data.degrees.long().clamp(max=self.max_degree)
        return self.in_degree(degrees[:, 0]) + self.out_degree(degrees[:, 1])
