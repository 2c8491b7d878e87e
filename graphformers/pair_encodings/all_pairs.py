"""Every ordered node pair of each graph of a mini-batch, for attention over all pairs (GRIT) and
pair biases (Graphormer), and the stored sparse pair encodings placed on it.

The pairs of graph ``g`` (``n_g`` nodes from node ``s_g``) are listed target-major: pair
``(source j, target i)`` sits at ``row_start[i] + j`` with ``row_start[i] = c_g + (i - s_g) n_g - s_g``
(``c_g`` the pairs of the graphs before ``g``). As the size blocks are, the plan is made on the CPU
where the batch is collated (:class:`PairBatchCollater`) and travels with it; placing pairs on it
takes integer gathers and scatters only.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Batch
from torch_geometric.utils import degree

from graphformers.pair_encodings.base import PairEncoding
from graphformers.pair_encodings.precompute import encode_pairs

PLAN_KEY = "all_pairs"
"""Attribute of a :class:`~torch_geometric.data.Batch` holding its :class:`AllPairs` plan."""
PLACED_KEY = "placed_pair_values"
"""Attribute of a :class:`~torch_geometric.data.Batch` holding, by encoding key, its pair values placed on the plan."""


class AllPairs(NamedTuple):
    """The ``P = sum n_g^2`` ordered pairs of a batch's graphs.

    Args:
        index (Tensor): ``[2, P]`` ``(source j, target i)`` of every pair, sorted by target then source.
        row_start (Tensor): ``[N]``: pair ``(j, i)`` is at position ``row_start[i] + j``.
    """

    index: Tensor
    row_start: Tensor

    def positions(self, pairs: Tensor) -> Tensor:
        """``[Q]`` positions of ``[2, Q]`` ``(source, target)`` pairs of the same graph."""
        return self.row_start[pairs[1]] + pairs[0]

    def diagonal(self) -> Tensor:
        """``[N]`` positions of the pairs ``(i, i)``."""
        return self.row_start + torch.arange(self.row_start.numel(), device=self.row_start.device)

    def place(self, pairs: Tensor, values: Tensor, fill: float = 0.0) -> Tensor:
        """``[P, c]``: ``values`` ``[Q, c]`` of distinct ``[2, Q]`` pairs at their positions, ``fill`` elsewhere."""
        out = values.new_full((self.index.size(1), values.size(-1)), fill)
        return out.index_copy_(0, self.positions(pairs), values)


def plan_all_pairs(batch: Tensor, num_graphs: int) -> AllPairs:
    """The :class:`AllPairs` of a batch, planned on the CPU and placed where ``batch`` is.

    Args:
        batch (Tensor): ``[N]`` graph of each node, sorted (as in a PyG ``Batch``).
        num_graphs (int): graphs in the batch.
    """
    sizes = degree(batch.cpu(), num_graphs, dtype=torch.long)
    node_start = torch.cumsum(sizes, 0) - sizes
    pair_start = torch.cumsum(sizes * sizes, 0) - sizes * sizes
    graph = batch.cpu()
    row_start = pair_start[graph] + (torch.arange(graph.numel()) - node_start[graph]) * sizes[graph] - node_start[graph]
    target = torch.repeat_interleave(torch.arange(graph.numel()), sizes[graph])
    source = torch.arange(target.numel()) - row_start[target]
    plan = AllPairs(torch.stack([source, target]), row_start)
    return plan if batch.device.type == "cpu" else AllPairs(*(t.to(batch.device, non_blocking=True) for t in plan))


def all_pairs_of(data: Batch) -> AllPairs:
    """The pair plan of ``data``: the one collated with it, else planned now and attached.

    Args:
        data (Batch): a mini-batch of graphs (``batch [N]``, ``num_graphs``).
    """
    if PLAN_KEY not in data:
        data[PLAN_KEY] = plan_all_pairs(data.batch, data.num_graphs)
    return data[PLAN_KEY]


def pair_values(data: Batch, encoding: PairEncoding, plan: AllPairs) -> Tensor:
    """``[P, channels]`` the encoding's values on every pair of the plan (:attr:`PairEncoding.fill`
    where none is stored), placed once per batch: every layer reading them gets the same tensor
    (kept on the batch under :data:`PLACED_KEY`, by encoding key).

    Args:
        data (Batch): the batch, holding the encoding's ``index_key`` / ``attr_key`` attributes.
        encoding (PairEncoding): the encoding.
        plan (AllPairs): the batch's pairs.
    """
    if PLACED_KEY not in data:
        data[PLACED_KEY] = {}
    placed = data[PLACED_KEY]
    if encoding.key not in placed:
        placed[encoding.key] = plan.place(data[encoding.index_key], data[encoding.attr_key], encoding.fill)
    return placed[encoding.key]


class PairBatchCollater:
    """A collate function that computes pair encodings on the mini-batch's graphs (when they are
    computed per batch: ``data.pair_encodings: per_batch``) and plans its pairs, where it is collated.

    Args:
        collate (callable): the wrapped collate function (PyG's ``Collater``), returning a ``Batch``.
        encodings (sequence of PairEncoding): encodings to compute per batch (empty: precomputed).
    """

    def __init__(self, collate: Callable[[Sequence[Any]], Batch], encodings: Sequence[PairEncoding] = ()) -> None:
        self.collate, self.encodings = collate, list(encodings)

    def __call__(self, items: Sequence[Any]) -> Batch:
        if self.encodings:
            items = [copy.copy(item) for item in items]
            encode_pairs(items, self.encodings)
        batch = self.collate(items)
        all_pairs_of(batch)
        return batch
