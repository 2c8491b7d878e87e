"""Precompute node encodings for many graphs at once.

Graphs of equal size are stacked and share one batched dense call (``torch.linalg.eigh`` on
``[B, n, n]``): on molecule-sized graphs the per-graph overhead of one LAPACK/ARPACK call per
graph, not the arithmetic, is what makes PyG's per-graph transforms slow. Graphs above
``dense_limit`` nodes go through each encoding's sparse path (scipy ``eigsh``, sparse products).
The work splits into independent tasks that ``workers`` threads or processes share.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from graphformers.encoders.spectral import dense_directed_adjacency
from graphformers.parallel import process_map, thread_map

DENSE_LIMIT = 1024
"""Graphs with more nodes than this use the sparse path (dense eigh costs O(n^3) time, O(n^2) memory)."""

_CHUNK_ELEMENTS = 1 << 21
"""Most matrix entries one dense task stacks (``B * n * n``): bounds memory, leaves work to share."""


class NodeEncoding(BaseTransform):
    """A precompute transform whose output is node-level tensors, ``{attribute: [N, c]}`` per graph.

    Subclasses implement :meth:`dense` for a stack of same-size graphs and :meth:`sparse` for
    one large graph; :func:`encode_graphs` picks between them. ``repr`` must name every option
    that changes the output: it keys the on-disk cache. ``edges`` names the graph attribute holding
    the edges it reads (``edge_index``; e.g. a one-way edge set for a directed encoding of a graph
    whose message passing uses both directions).
    """

    edges: str = "edge_index"

    @property
    def channels_per_node(self) -> int:
        """Floats stored per node, all attributes together (e.g. ``2 k`` for ``k`` eigenvectors and
        their eigenvalues): before any precompute, the node count times this estimates the memory
        the encoding takes, so an encoding too large for the machine is refused, not run out of memory."""
        raise NotImplementedError(f"{type(self).__name__} must define channels_per_node")

    def dense(self, directed: Tensor) -> dict[str, Tensor]:
        """``[B, n, n]`` float64 0/1 directed adjacencies -> ``{attribute: [B, n, c]}`` float32."""
        raise NotImplementedError

    def sparse(self, edge_index: Tensor, num_nodes: int) -> dict[str, Tensor]:
        """One graph's ``[2, E]`` edges -> ``{attribute: [num_nodes, c]}`` float32."""
        raise NotImplementedError

    def forward(self, data: Data) -> Data:
        encode_graphs([data], [self])
        return data


@dataclass
class _Task:
    """Same-size graphs computed together (dense), or one large graph (sparse)."""

    edge_index: np.ndarray
    graph: np.ndarray
    num_graphs: int
    num_nodes: int
    sparse: bool


def encode_graphs(graphs: Sequence[Data], encodings: Sequence[NodeEncoding], dense_limit: int = DENSE_LIMIT,
                  workers: int = 0) -> None:
    """Compute every encoding for every graph and store it on the graphs (in place)."""
    attach_node_encodings(graphs, compute_node_encodings(graphs, encodings, dense_limit, workers))


def compute_node_encodings(graphs: Sequence[Data], encodings: Sequence[NodeEncoding], dense_limit: int = DENSE_LIMIT,
                           workers: int = 0) -> dict[str, Tensor]:
    """``{attribute: [sum N, c]}``: every encoding of every graph, graphs concatenated in order.

    ``workers > 1`` shares the work: same-size stacks over threads, large graphs over processes.
    """
    sizes = torch.tensor([graph.num_nodes for graph in graphs], dtype=torch.long)
    node_ptr = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)])
    encoded: dict[str, Tensor] = {}
    for edges in dict.fromkeys(encoding.edges for encoding in encodings):
        tasks, rows = _plan([graph[edges] for graph in graphs], sizes, node_ptr, dense_limit)
        results = _run(tasks, [encoding for encoding in encodings if encoding.edges == edges], workers)
        for task_rows, result in zip(rows, results, strict=True):
            for name, values in result.items():
                values = torch.from_numpy(values)
                if name not in encoded:
                    encoded[name] = values.new_zeros(int(node_ptr[-1]), values.size(-1))
                encoded[name][task_rows] = values.reshape(-1, values.size(-1))
    return encoded


def attach_node_encodings(graphs: Sequence[Data], encoded: dict[str, Tensor]) -> None:
    """Store ``{attribute: [sum N, c]}`` on the graphs, each getting its own rows."""
    sizes = [graph.num_nodes for graph in graphs]
    for name, values in encoded.items():
        for graph, rows in zip(graphs, values.split(sizes), strict=True):
            setattr(graph, name, rows)


def _plan(edge_sets: Sequence[Tensor], sizes: Tensor, node_ptr: Tensor,
          dense_limit: int) -> tuple[list[_Task], list[Tensor]]:
    """Tasks over graphs (given by their ``[2, E]`` edges and sizes) sorted by size, and the output rows each fills."""
    edge_counts = torch.tensor([edges.size(1) for edges in edge_sets], dtype=torch.long)
    order = torch.argsort(sizes, stable=True)
    edge_index = torch.cat([edge_sets[i] for i in order.tolist()], dim=1) if len(edge_sets) else torch.empty(2, 0)
    edge_ptr = torch.cat([edge_counts.new_zeros(1), edge_counts[order].cumsum(0)])
    edge_rank = torch.repeat_interleave(torch.arange(len(edge_sets)), edge_counts[order])
    sorted_sizes = sizes[order]
    tasks, rows = [], []
    start = 0
    while start < len(edge_sets):
        n = int(sorted_sizes[start])
        if n > dense_limit:
            stop = start + 1
        else:
            limit = start + max(1, _CHUNK_ELEMENTS // max(n * n, 1))
            stop = start + int((sorted_sizes[start:limit] == n).sum())
        if n > 0:
            members = order[start:stop]
            edges = slice(int(edge_ptr[start]), int(edge_ptr[stop]))
            tasks.append(_Task(edge_index[:, edges].numpy(), (edge_rank[edges] - start).numpy(), stop - start, n,
                               n > dense_limit))
            rows.append((node_ptr[members][:, None] + torch.arange(n)).reshape(-1))
        start = stop
    return tasks, rows


def _run(tasks: list[_Task], encodings: list[NodeEncoding], workers: int) -> list[dict[str, np.ndarray]]:
    """Dense tasks on ``workers`` threads (batched LAPACK/BLAS releases the GIL, and threads copy
    nothing); sparse tasks on ``workers`` forked processes (ARPACK's iteration is driven from
    Python and holds the GIL)."""
    results: list[dict[str, np.ndarray]] = [{} for _ in tasks]
    dense = [i for i, task in enumerate(tasks) if not task.sparse]
    sparse = [i for i, task in enumerate(tasks) if task.sparse]
    run_task = partial(_run_task, encodings=encodings)
    for i, result in zip(dense, thread_map(run_task, [tasks[i] for i in dense], workers), strict=True):
        results[i] = result
    sparse_results = process_map(run_task, [tasks[i] for i in sparse], workers, chunk=1, initializer=_one_thread)
    for i, result in zip(sparse, sparse_results, strict=True):
        results[i] = result
    return results


def _one_thread() -> None:
    """A sparse worker's torch runs on one thread (the workers share the CPUs)."""
    torch.set_num_threads(1)


def _run_task(task: _Task, encodings: list[NodeEncoding]) -> dict[str, np.ndarray]:
    edge_index = torch.from_numpy(task.edge_index)
    result: dict[str, Tensor] = {}
    if task.sparse:
        for encoding in encodings:
            result.update(encoding.sparse(edge_index, task.num_nodes))
    else:
        directed = dense_directed_adjacency(edge_index, torch.from_numpy(task.graph), task.num_graphs, task.num_nodes)
        for encoding in encodings:
            result.update(encoding.dense(directed))
    return {name: values.numpy() for name, values in result.items()}


def dense_fallback(encoding: NodeEncoding, edge_index: Tensor, num_nodes: int) -> dict[str, Tensor]:
    """One graph through :meth:`NodeEncoding.dense`: for sparse calls on graphs too small for ARPACK."""
    directed = dense_directed_adjacency(edge_index, torch.zeros(edge_index.size(1), dtype=torch.long), 1, num_nodes)
    return {name: values[0] for name, values in encoding.dense(directed).items()}
