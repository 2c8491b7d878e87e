"""Orderings read from each graph's structure at every step: by degree (Graph-Mamba's), at random,
and breadth first from the highest-degree node."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch
from torch_geometric.utils import degree, scatter

from graphformers.orderings.base import NodeOrdering
from graphformers.registry import register_ordering


@register_ordering("degree")
class DegreeOrdering(NodeOrdering):
    """By ascending in-degree, the highest-degree nodes read last (Graph-Mamba's order).

    Graph-Mamba (Wang et al. 2024) reads hubs last, so that they see the most of the sequence; nodes
    of equal degree come in random order. The degree counts each node's incoming edges."""

    def keys(self, data: Batch) -> Tensor:
        return degree(data.edge_index[1], data.num_nodes, dtype=torch.float)


@register_ordering("random")
class RandomOrdering(NodeOrdering):
    """A uniformly random order of each graph's nodes (every key equal: the tie-breaks decide)."""

    def keys(self, data: Batch) -> Tensor:
        return torch.zeros(data.num_nodes, device=data.edge_index.device)


@register_ordering("bfs")
class BreadthFirstOrdering(NodeOrdering):
    """Breadth first from each graph's highest-degree node (hop distance, then descending degree).

    Within one distance nodes come by descending degree, then the tie-breaks; nodes the start cannot
    reach come last, by descending degree. The start is the graph's first highest-degree node in its
    own numbering, so where several nodes share the highest degree, relabelling the graph may change
    the order (not equivariant).

    Args:
        max_hops (int, optional): distances are followed this far; farther nodes share the last
            distance (default: :obj:`256`)
    """

    equivariant = False

    def __init__(self, max_hops: int = 256) -> None:
        self.max_hops = max_hops

    def keys(self, data: Batch) -> Tensor:
        num_nodes, (source, target) = data.num_nodes, data.edge_index
        degrees = degree(target, num_nodes, dtype=torch.float)
        batch = data.batch if data.batch is not None else torch.zeros_like(degrees, dtype=torch.long)
        best = scatter(degrees, batch, dim=0, dim_size=data.num_graphs, reduce="max")
        candidates = torch.where(degrees == best[batch], torch.arange(num_nodes, device=degrees.device), num_nodes)
        starts = scatter(candidates, batch, dim=0, dim_size=data.num_graphs, reduce="min")
        starts = starts[degree(batch, data.num_graphs) > 0]  # an empty graph has no start (its "minimum" is 0)
        distance = torch.full((num_nodes,), float(self.max_hops + 1), device=degrees.device)
        reached = torch.zeros(num_nodes, dtype=torch.bool, device=degrees.device)
        reached[starts] = True
        distance[starts] = 0.0
        frontier = reached.clone()
        for hop in range(1, self.max_hops + 1):
            touched = torch.zeros(num_nodes, device=degrees.device).index_add_(0, target, frontier[source].float()) > 0
            frontier = touched & ~reached
            if not bool(frontier.any()):
                break
            distance[frontier] = float(hop)
            reached |= frontier
        scale = degrees.max() + 1 if num_nodes else 1.0
        return distance - degrees / scale  # degree in (-1, 0]: orders nodes within one distance
