"""Compute pair encodings for many graphs at once, and attach them to the graphs.

Graphs of similar size are padded with isolated nodes to a common size, stacked, and share one
batched dense call per encoding; each graph keeps the pairs among its own nodes that its encoding
stores (within ``hops``, or all ``N^2``) as sparse ``(index [2, P], attr [P, channels])``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphformers.encoders.spectral import dense_directed_adjacency
from graphformers.parallel import thread_map

if TYPE_CHECKING:  # the contract calls this module (PairEncoding.forward); types only, no import circle
    from graphformers.pair_encodings.base import PairEncoding

_CHUNK_ELEMENTS = 1 << 22
"""Most values (``B * L * L * channels``, 16 MiB in float32) one dense task stacks: large stacks, yet below
glibc's largest mmap threshold (32 MiB), so the buffers are reused instead of mapped and faulted in
again for every task (measured on 2,000 Peptides graphs: 2.0 s, against 2.6-3.4 s with 64 MiB)."""
PAD_RATIO = 1.25
"""Graphs share a task (padded with isolated nodes) when the largest has at most this many times the smallest's
nodes."""


def count_key(encoding: PairEncoding) -> str:
    """Key of the ``[G]`` pairs-per-graph counts in :func:`compute_pair_encodings`'s output."""
    return f"{encoding.key}_count"


@dataclass
class _Task:
    """Graphs of similar size computed together, each padded to ``length`` nodes."""

    members: list[int]
    sizes: Tensor
    edge_index: Tensor
    graph: Tensor
    length: int


def _plan(edge_sets: Sequence[Tensor], sizes: Sequence[int], chunk_elements: int) -> list[_Task]:
    """Tasks over the graphs with nodes, smallest first: a task's largest graph has at most
    :data:`PAD_RATIO` times its smallest's nodes and the stack at most ``chunk_elements`` pairs.
    Stacking graphs of similar (not only equal) size keeps stacks large on datasets whose sizes vary
    (Peptides-func: 2,000 graphs have ~300 distinct sizes)."""
    order = sorted((i for i, n in enumerate(sizes) if n > 0), key=lambda i: sizes[i])
    tasks, members = [], []
    for graph in order + [None]:
        if members and (graph is None or sizes[graph] > PAD_RATIO * sizes[members[0]]
                        or (len(members) + 1) * sizes[graph] ** 2 > chunk_elements):
            tasks.append(_Task(members, torch.tensor([sizes[m] for m in members]),
                               torch.cat([edge_sets[m] for m in members], dim=1),
                               torch.repeat_interleave(torch.arange(len(members)),
                                                       torch.tensor([edge_sets[m].size(1) for m in members])),
                               sizes[members[-1]]))
            members = []
        if graph is not None:
            members.append(graph)
    return tasks


def compute_pair_encodings(graphs: Sequence[Data], encodings: Sequence[PairEncoding],
                           workers: int = 0) -> dict[str, Tensor]:
    """Every encoding of every graph, graphs concatenated in order.

    Returns, per encoding, ``{index_key: [2, sum P] (node ids local to each graph), attr_key:
    [sum P, channels], <key>_count: [G]}`` (see :class:`~graphformers.pair_encodings.base.PairEncoding`).

    Args:
        graphs (sequence of Data): the graphs.
        encodings (sequence of PairEncoding): the encodings; their keys must differ.
        workers (int): threads sharing the tasks (batched BLAS releases the GIL).
    """
    sizes = [int(graph.num_nodes) for graph in graphs]
    encoded: dict[str, Tensor] = {}
    for edges in dict.fromkeys(encoding.edges for encoding in encodings):
        group = [encoding for encoding in encodings if encoding.edges == edges]
        chunk = max(1, _CHUNK_ELEMENTS // max(encoding.channels for encoding in group))
        tasks = _plan([graph[edges] for graph in graphs], sizes, chunk)
        results = thread_map(partial(_pair_task, encodings=group), tasks, workers)
        for encoding in group:
            encoded.update(_in_graph_order(encoding, tasks, results, len(graphs)))
    return encoded


def _pair_task(task: _Task, encodings: Sequence[PairEncoding]) -> dict[str, tuple[list[Tensor], list[Tensor]]]:
    """Per encoding, each graph of the task's ``([2, P] index, [P, channels] values)``."""
    directed = dense_directed_adjacency(task.edge_index, task.graph, len(task.members), task.length)
    positions = torch.arange(task.length)
    real = positions < task.sizes[:, None]  # [B, L]
    out = {}
    for encoding in encodings:
        values = encoding.dense(directed)  # [B, L, L, channels]
        stored = encoding.stored_pairs(directed, values) & real[:, :, None] & real[:, None, :]
        graph, target, source = stored.nonzero(as_tuple=True)  # sorted by graph, target, source
        counts = torch.bincount(graph, minlength=len(task.members)).tolist()
        out[encoding.key] = (list(torch.stack([source, target]).split(counts, dim=1)),
                             list(values[graph, target, source].split(counts)))
    return out


def _in_graph_order(encoding: PairEncoding, tasks: Sequence[_Task], results: Sequence[dict],
                    num_graphs: int) -> dict[str, Tensor]:
    """One encoding's pairs of every graph, concatenated in the input order (graphs without nodes: none)."""
    indices: list[Tensor] = [torch.empty(2, 0, dtype=torch.long)] * (num_graphs + 1)
    values: list[Tensor] = [torch.empty(0, encoding.channels)] * (num_graphs + 1)
    for task, result in zip(tasks, results, strict=True):
        for member, index, value in zip(task.members, *result[encoding.key], strict=True):
            indices[member], values[member] = index, value
    return {encoding.index_key: torch.cat(indices, dim=1), encoding.attr_key: torch.cat(values).float(),
            count_key(encoding): torch.tensor([value.size(0) for value in values[:-1]], dtype=torch.long)}


def attach_pair_encodings(graphs: Sequence[Data], encodings: Sequence[PairEncoding],
                          encoded: dict[str, Tensor]) -> None:
    """Store :func:`compute_pair_encodings`'s output on the graphs, each getting its own pairs.

    Args:
        graphs (sequence of Data): the graphs it was computed for, in the same order.
        encodings (sequence of PairEncoding): the encodings computed.
        encoded (dict): :func:`compute_pair_encodings`'s output.
    """
    for encoding in encodings:
        counts = encoded[count_key(encoding)].tolist()
        pairs = zip(encoded[encoding.index_key].split(counts, dim=1), encoded[encoding.attr_key].split(counts),
                    strict=True)
        for graph, (index, values) in zip(graphs, pairs, strict=True):
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
