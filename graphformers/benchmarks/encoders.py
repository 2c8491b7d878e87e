"""The ``encoders`` suite: our batched precompute against PyG's per-graph transforms on the same graphs.

Graph sets (from ``graphs``): ``molecules`` (``molecule_like_graphs``: random trees of 10-40 nodes
with up to three ring closures, mean ~25 nodes, like ZINC) and single large random graphs
(``synthetic_graph``, self loops removed).
Encodings: Laplacian eigenvectors (``k``) against ``AddLaplacianEigenvectorPE(k,
is_undirected=True)`` and random-walk landing probabilities (``steps``) against
``AddRandomWalkPE(steps)``. Each method is warmed up, then timed ``repeats`` times in
alternating order; the median is reported.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

from torch_geometric.data import Data
from torch_geometric.transforms import AddLaplacianEigenvectorPE, AddRandomWalkPE
from torch_geometric.utils import remove_self_loops
from tqdm import tqdm

from graphformers.benchmarks.graphs import molecule_like_graphs, synthetic_graph
from graphformers.encoders import LaplacianEigenvectors, RandomWalkLandingProbabilities
from graphformers.encoders.precompute import encode_graphs
from graphformers.resources import environment

COLUMNS = ["suite", "encoding", "graph_set", "graphs", "nodes", "edges", "method", "seconds", "graphs_per_s",
           "speedup_vs_pyg", "max_abs_diff_vs_pyg", "status", "device", "torch", "pyg", "threads", "commit"]
LONG_RUN_S = 60.0
"""After a first timed run this long, a measurement is not repeated."""
RWSE_MAX_NODES = 10_000
"""Exact RWSE above this many nodes is out of reach for both methods (ours O(steps E N); PyG's sparse P^t fills in)."""


def run_encoders(molecules: int, large_sizes: Sequence[int], k: int, steps: int, repeats: int,
                 workers: int) -> list[dict]:
    """One row per (graph set, encoding, method): ``pyg``, ``ours`` and, with ``workers > 1``, ``ours-workersW``."""
    graph_sets = [("molecules", molecule_like_graphs(molecules))]
    graph_sets += [(f"one graph, N={n:,}", [_simple_graph(synthetic_graph(n))]) for n in large_sizes]
    encodings = {
        "lap": (AddLaplacianEigenvectorPE(k, is_undirected=True), LaplacianEigenvectors(k), "laplacian_eigenvector_pe",
                "lap_eigvec"),
        "rwse": (AddRandomWalkPE(steps), RandomWalkLandingProbabilities(steps), "random_walk_pe", "rwse"),
    }
    env, rows = environment(), []
    with tqdm(total=len(graph_sets) * len(encodings), desc="encoders", unit="case") as progress:
        for set_name, graphs in graph_sets:
            for encoding, (pyg_transform, ours, pyg_attr, our_attr) in encodings.items():
                progress.set_postfix_str(f"{encoding} on {set_name}")
                base = {"suite": "encoders", "encoding": f"{encoding} ({ours!r})", "graph_set": set_name,
                        "graphs": len(graphs), "nodes": sum(g.num_nodes for g in graphs),
                        "edges": sum(g.edge_index.size(1) for g in graphs), **env}
                if encoding == "rwse" and max(g.num_nodes for g in graphs) > RWSE_MAX_NODES:
                    rows.append({**base, "method": "both", "status": f"not run: RWSE above {RWSE_MAX_NODES:,} nodes"})
                else:
                    rows.extend(_compare(base, graphs, pyg_transform, ours, pyg_attr, our_attr, repeats, workers))
                progress.update()
    return rows


def _compare(base: dict, graphs: list[Data], pyg_transform: Callable, ours, pyg_attr: str, our_attr: str,
             repeats: int, workers: int) -> list[dict]:
    pyg_outputs: list[Data] = []

    def pyg() -> None:
        pyg_outputs[:] = [pyg_transform(graph) for graph in graphs]  # PyG returns shallow copies

    methods = {"pyg": pyg, "ours": lambda: encode_graphs(graphs, [ours])}
    if workers > 1:
        methods[f"ours-workers{workers}"] = lambda: encode_graphs(graphs, [ours], workers=workers)
    seconds = _time_alternating(methods, graphs, repeats)
    difference = max(float((getattr(out, pyg_attr) - getattr(graph, our_attr)).abs().max())
                     for out, graph in zip(pyg_outputs, graphs, strict=True)) if our_attr == "rwse" else ""
    return [{**base, "method": name, "seconds": value, "graphs_per_s": len(graphs) / value,
             "speedup_vs_pyg": seconds["pyg"] / value, "max_abs_diff_vs_pyg": difference if name != "pyg" else "",
             "status": "ok"} for name, value in seconds.items()]


def _time_alternating(methods: dict[str, Callable[[], None]], graphs: list[Data], repeats: int) -> dict[str, float]:
    """Median seconds per method; each first runs once untimed when the set has many graphs (warm-up)."""
    if len(graphs) > 1:
        for method in methods.values():
            method()
    times: dict[str, list[float]] = {name: [] for name in methods}
    names = list(methods)
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            started = time.perf_counter()
            methods[name]()
            times[name].append(time.perf_counter() - started)
        if max(max(values) for values in times.values()) > LONG_RUN_S:
            break
    return {name: statistics.median(values) for name, values in times.items()}


def _simple_graph(graph: Data) -> Data:
    """The graph's structure without self loops (ours ignores them, PyG's RWSE counts them)."""
    return Data(edge_index=remove_self_loops(graph.edge_index)[0], num_nodes=graph.num_nodes)


def markdown_table(rows: Sequence[dict]) -> str:
    """Graphs/s and speed-up over PyG per encoding, graph set and method."""
    lines = ["| encoding | graphs | method | seconds | graphs/s | speed-up vs PyG |", "|---|---|---|---|---|---|"]
    for row in rows:
        if row["status"] != "ok":
            lines.append(f"| {row['encoding']} | {row['graph_set']} | {row['method']} | {row['status']} | | |")
            continue
        lines.append(f"| {row['encoding']} | {row['graph_set']} ({row['graphs']:,}) | {row['method']} | "
                     f"{row['seconds']:.3g} | {row['graphs_per_s']:,.0f} | {row['speedup_vs_pyg']:.2f}x |")
    return "\n".join(lines)
