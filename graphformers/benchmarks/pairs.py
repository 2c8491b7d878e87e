"""The ``pairs`` suite: pair encodings and the models that read them.

``precompute``: our batched RRWP (:mod:`graphformers.pair_encodings.precompute`) against a plain
per-graph reference (GRIT's ``add_full_rrwp`` without its sparse-tensor library: one dense
``D^-1 A`` and its powers per graph, then the non-zero pairs), on Peptides-func graphs when their
files are under the data root, else on generated molecule-sized graphs. Each method is warmed up,
then timed ``repeats`` times in alternating order (median).

``training``: forward, loss, backward and AdamW step of recipes' models on the same Peptides-func
validation batches (collated as training collates them, pair encodings included, before timing):
seconds per batch and the peak memory training adds, each recipe in a fresh process, one after the other.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from torch_geometric.data import Data

from graphformers.benchmarks.encoders import _time_alternating
from graphformers.benchmarks.graphs import molecule_like_graphs
from graphformers.data.datamodule import load_split_dataset
from graphformers.data.raw_files import MissingDataError
from graphformers.pair_encodings import RRWP
from graphformers.pair_encodings.precompute import compute_pair_encodings
from graphformers.recipe import DataConfig
from graphformers.resources import environment

WORKER = "graphformers.benchmarks.pairs_worker"
COLUMNS = ["suite", "part", "graph_set", "graphs", "nodes", "method", "seconds", "graphs_per_s", "speedup",
           "peak_mib", "memory_ratio", "max_abs_diff", "status", "device", "torch", "pyg", "threads", "commit"]


def per_graph_rrwp(graph: Data, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference: ``([2, P] (source, target), [P, steps])`` of one graph's non-zero RRWP pairs."""
    n = graph.num_nodes
    adjacency = torch.zeros(n, n)
    adjacency[graph.edge_index[0], graph.edge_index[1]] = 1.0
    degree = adjacency.sum(dim=1, keepdim=True)
    walk = torch.where(degree > 0, adjacency / degree.clamp(min=1), torch.zeros_like(adjacency))
    powers = [torch.eye(n), walk]
    while len(powers) < steps:
        powers.append(powers[-1] @ walk)
    stacked = torch.stack(powers[:steps], dim=-1)
    target, source = (stacked != 0).any(dim=-1).nonzero(as_tuple=True)
    return torch.stack([source, target]), stacked[target, source]


def peptides_or_generated(count: int, root: str | None) -> tuple[str, list[Data]]:
    """The first ``count`` Peptides-func training graphs, or generated molecule-sized ones without the files."""
    try:
        splits = load_split_dataset(DataConfig(name="peptides-func", root=root, options={"download": False}))
        return "peptides-func", list(splits.train[:count])
    except MissingDataError:
        return "generated molecules", molecule_like_graphs(count)


def run_precompute(count: int, steps: int, repeats: int, workers: int, root: str | None) -> list[dict]:
    """One row per method: ``per-graph dense``, ``ours`` and, with ``workers > 1``, ``ours-workersW``."""
    set_name, graphs = peptides_or_generated(count, root)
    encoding = RRWP(steps)
    outputs: dict[str, object] = {}
    methods = {"per-graph dense": lambda: outputs.update(reference=[per_graph_rrwp(g, steps) for g in graphs]),
               "ours": lambda: outputs.update(ours=compute_pair_encodings(graphs, [encoding]))}
    if workers > 1:
        methods[f"ours-workers{workers}"] = lambda: compute_pair_encodings(graphs, [encoding], workers=workers)
    seconds = _time_alternating(methods, graphs, repeats)
    reference_index = torch.cat([index for index, _ in outputs["reference"]], dim=1)
    reference_values = torch.cat([values for _, values in outputs["reference"]])
    ours = outputs["ours"]
    same_pairs = torch.equal(ours[encoding.index_key], reference_index)
    difference = float((ours[encoding.attr_key] - reference_values).abs().max()) if same_pairs else float("inf")
    base = {"suite": "pairs", "part": f"precompute {encoding!r}", "graph_set": set_name, "graphs": len(graphs),
            "nodes": sum(g.num_nodes for g in graphs), **environment()}
    return [{**base, "method": name, "seconds": value, "graphs_per_s": len(graphs) / value,
             "speedup": seconds["per-graph dense"] / value,
             "max_abs_diff": difference if name != "per-graph dense" else "",
             "status": "ok" if same_pairs else "pairs differ from the reference"} for name, value in seconds.items()]


def run_training(recipes: Sequence[Path], batch_size: int, num_batches: int, repeats: int,
                 root: str | None) -> list[dict]:
    """One row per recipe, each measured in a fresh process (``pairs_worker``): median seconds per
    batch and the peak memory training added; speed and memory ratios are to the first recipe."""
    rows: list[dict] = []
    env = environment()
    for path in recipes:
        command = [sys.executable, "-m", WORKER, str(path), str(batch_size), str(num_batches), str(repeats)]
        done = subprocess.run(command + ([root] if root else []), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{WORKER} failed on {path}:\n{done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        seconds = statistics.median(result["passes"]) / num_batches
        rows.append({"suite": "pairs", "part": "training", "graph_set": f"{result['dataset']} val batches",
                     "graphs": result["graphs"], "nodes": result["nodes"], "method": result["name"],
                     "seconds": seconds, "graphs_per_s": batch_size / seconds, "peak_mib": result["peak_mib"],
                     "status": "ok", **env})
    for row in rows:
        row["speedup"] = rows[0]["seconds"] / row["seconds"]
        row["memory_ratio"] = row["peak_mib"] / max(rows[0]["peak_mib"], 1e-9)
    return rows


def markdown_table(rows: Sequence[dict]) -> str:
    """Seconds, graphs/s, speed-up and memory per part and method."""
    lines = ["| part | graphs | method | seconds | graphs/s | speed-up | peak MiB | memory ratio |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        peak = f"{row['peak_mib']:,.0f}" if row.get("peak_mib") not in (None, "") else ""
        ratio = f"{row['memory_ratio']:.2f}x" if row.get("memory_ratio") not in (None, "") else ""
        lines.append(f"| {row['part']} | {row['graph_set']} ({row['graphs']:,}) | {row['method']} | "
                     f"{row['seconds']:.3g} | {row['graphs_per_s']:,.1f} | {row['speedup']:.2f}x | {peak} | {ratio} |")
    return "\n".join(lines)
