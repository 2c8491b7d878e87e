"""Compute pair encodings for many graphs at once, and attach them to the graphs.

Graphs of equal size are stacked and share one batched dense call per encoding (as node
encodings are, :mod:`graphformers.encoders.precompute`); each graph keeps the pairs its encoding
stores (within ``hops``, or all ``N^2``) as sparse ``(index [2, P], attr [P, channels])``.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import shortest_path
from torch import Tensor
from torch_geometric.data import Data

from graphformers.encoders.precompute import Task, plan_tasks
from graphformers.encoders.spectral import dense_directed_adjacency, symmetrize
from graphformers.pair_encodings.base import PairEncoding

_PAIR_CHUNK_ELEMENTS = 1 << 19
"""Most ``B * n * n`` pairs one dense task stacks (times the channels, in float64, while it works)."""
_NO_DENSE_LIMIT = 1 << 62


def count_key(encoding: PairEncoding) -> str:
    """Key of the ``[G]`` pairs-per-graph counts in :func:`compute_pair_encodings`'s output."""
    return f"{encoding.key}_count"


def hop_distances(directed: Tensor) -> Tensor:
    """``[B, n, n]`` float64 hop distances on the undirected graphs of ``[B, n, n]`` directed
    adjacencies (``inf`` between components), by breadth-first search (scipy, per graph: ``O(n E)``,
    where distance by matrix products would cost ``O(n^3)`` per hop)."""
    undirected = symmetrize(directed).numpy()
    return torch.from_numpy(np.stack([shortest_path(sp.csr_matrix(graph), method="D", unweighted=True, directed=False)
                                      for graph in undirected]).reshape(directed.shape))


def compute_pair_encodings(graphs: Sequence[Data], encodings: Sequence[PairEncoding], workers: int = 0) -> dict[str, Tensor]:
    """Every encoding of every graph, graphs concatenated in order.

    Returns, per encoding, ``{index_key: [2, sum P] (node ids local to each graph), attr_key:
    [sum P, channels], <key>_count: [G]}`` (see :class:`~graphformers.pair_encodings.base.PairEncoding`).

    Args:
        graphs (sequence of Data): the graphs.
        encodings (sequence of PairEncoding): the encodings; their keys must differ.
        workers (int): threads sharing the same-size stacks (batched BLAS releases the GIL).
    """
    sizes = torch.tensor([graph.num_nodes for graph in graphs], dtype=torch.long)
    node_ptr = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)])
    encoded: dict[str, Tensor] = {}
    for edges in dict.fromkeys(encoding.edges for encoding in encodings):
        group = [encoding for encoding in encodings if encoding.edges == edges]
        chunk = max(1, _PAIR_CHUNK_ELEMENTS // max(encoding.channels for encoding in group))
        tasks, _ = plan_tasks([graph[edges] for graph in graphs], sizes, node_ptr, _NO_DENSE_LIMIT, chunk)
        if workers > 1 and len(tasks) > 1:
            with ThreadPoolExecutor(workers) as pool:
                results = list(pool.map(lambda task: _pair_task(task, group), tasks))
        else:
            results = [_pair_task(task, group) for task in tasks]
        for encoding in group:
            encoded.update(_in_graph_order(encoding, tasks, results, len(graphs)))
    return encoded


def _pair_task(task: Task, encodings: Sequence[PairEncoding]) -> dict[str, tuple[list[Tensor], list[Tensor]]]:
    """Per encoding, each graph of the task's ``([2, P] index, [P, channels] values)``."""
    directed = dense_directed_adjacency(torch.from_numpy(task.edge_index), torch.from_numpy(task.graph),
                                        task.num_graphs, task.num_nodes)
    n = task.num_nodes
    distances = None
    out = {}
    for encoding in encodings:
        values = encoding.dense(directed)  # [B, n, n, channels]
        if encoding.hops is None:
            target, source = torch.arange(n).repeat_interleave(n), torch.arange(n).repeat(n)
            index = torch.stack([source, target])
            out[encoding.key] = ([index] * task.num_graphs, list(values.reshape(task.num_graphs, n * n, -1).unbind(0)))
            continue
        if distances is None:
            distances = hop_distances(directed)
        graph, target, source = (distances <= encoding.hops).nonzero(as_tuple=True)  # sorted by graph, target, source
        counts = torch.bincount(graph, minlength=task.num_graphs).tolist()
        out[encoding.key] = (list(torch.stack([source, target]).split(counts, dim=1)),
                             list(values[graph, target, source].split(counts)))
    return out


def _in_graph_order(encoding: PairEncoding, tasks: Sequence[Task], results: Sequence[dict], num_graphs: int) -> dict[str, Tensor]:
    """One encoding's pairs of every graph, concatenated in the input order (graphs without nodes: none)."""
    indices: list[Tensor] = [torch.empty(2, 0, dtype=torch.long)] * (num_graphs + 1)
    values: list[Tensor] = [torch.empty(0, encoding.channels)] * (num_graphs + 1)
    for task, result in zip(tasks, results):
        for member, index, value in zip(task.members.tolist(), *result[encoding.key]):
            indices[member], values[member] = index, value
    return {encoding.index_key: torch.cat(indices, dim=1), encoding.attr_key: torch.cat(values).float(),
            count_key(encoding): torch.tensor([value.size(0) for value in values[:-1]], dtype=torch.long)}


def attach_pair_encodings(graphs: Sequence[Data], encodings: Sequence[PairEncoding], encoded: dict[str, Tensor]) -> None:
    """Store :func:`compute_pair_encodings`'s output on the graphs, each getting its own pairs.

    Args:
        graphs (sequence of Data): the graphs it was computed for, in the same order.
        encodings (sequence of PairEncoding): the encodings computed.
        encoded (dict): :func:`compute_pair_encodings`'s output.
    """
    for encoding in encodings:
        counts = encoded[count_key(encoding)].tolist()
        pairs = zip(encoded[encoding.index_key].split(counts, dim=1), encoded[encoding.attr_key].split(counts))
        for graph, (index, values) in zip(graphs, pairs):
            graph[encoding.index_key], graph[encoding.attr_key] = index, values


def encode_pairs(graphs: Sequence[Data], encodings: Sequence[PairEncoding], workers: int = 0) -> None:
    """Compute every encoding for every graph and store it on the graphs (in place)."""
    attach_pair_encodings(graphs, encodings, compute_pair_encodings(graphs, encodings, workers))


def pair_memory_bytes(num_nodes: Sequence[int], encodings: Sequence[PairEncoding]) -> int:
    """Bytes the encodings' stored pairs take at most on graphs of these sizes: ``N^2`` pairs per graph,
    each with its two int64 node ids and ``channels`` float32 values (fewer pairs within ``hops``).

    Args:
        num_nodes (sequence of int): node count of each graph.
        encodings (sequence of PairEncoding): the encodings.
    """
    pairs = sum(n * n for n in num_nodes)
    return pairs * sum(16 + 4 * encoding.channels for encoding in encodings)
