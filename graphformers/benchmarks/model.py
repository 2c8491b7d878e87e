"""The ``model`` suite: training throughput and peak memory of our GPS model against a reference
built from PyG's ``GPSConv`` at the same configuration, on the same batches.

Batch sets: ``peptides-func``, ``zinc`` and ``hiv`` (real graphs, when their files are under the
data root; ``hiv``: MoleculeNet's HIV.csv under ``<root>/MoleculeNet/hiv/raw/``, through
``smiles-csv`` with OGB's features and scaffold split), and ``generated`` (``graphs.generated_graphs``:
molecule-sized graphs with OGB-style atom/bond features, always).
Each (set, mixer, precision) is measured ``repeats`` times per implementation, each time in a fresh
process (see ``model_worker``), ours and PyG's alternating which goes first; the median pass time
is reported. Mixers compared: ``full`` (PyG: ``multihead``) and ``performer``; the other mixers
(``aft``, ``cat``, ...) and ours without a mixer run ours only, beside them. Both implementations
run each precision the same way (float32, or autocast for ``bf16-mixed`` / ``16-mixed``); ours in a
mixed precision is also compared with ours in float32 (``speedup_vs_float32``).
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from torch_geometric.data import Data
from tqdm import tqdm

from graphformers.benchmarks.graphs import GENERATED_LABELS, generated_graphs
from graphformers.data.datamodule import load_split_dataset
from graphformers.data.raw_files import MissingDataError
from graphformers.recipe import DataConfig, RecipeError
from graphformers.resources import environment
from graphformers.task import TaskInfo

COLUMNS = ["suite", "batches", "graphs", "nodes", "mixer", "precision", "implementation", "parameters", "seconds",
           "fastest_seconds", "graphs_per_s", "nodes_per_s", "peak_mib", "speedup_vs_pyg", "fastest_speedup_vs_pyg",
           "memory_vs_pyg", "speedup_vs_float32",
           "status", "device", "torch", "pyg", "threads", "commit"]
GENERATED = TaskInfo(level="graph", task="multilabel", num_outputs=GENERATED_LABELS, metric="ap", node_encoder="atom",
                     node_in=9, edge_encoder="bond", edge_in=3)
WORKER = "graphformers.benchmarks.model_worker"
PYG_ATTENTION = {"full": "multihead", "performer": "performer"}
"""Our mixers that PyG's GPSConv also has, and its name for each."""
WITHOUT_MIXER = "none"
"""Ours without a global mixer (PyG's ``GPSConv`` has no such layer): the local blocks, FFNs, norms,
encoders and head that both models run, so its time bounds how much faster than PyG ours can be."""


def suite_mixers() -> tuple[str, ...]:
    """The mixers the suite can measure: every registered one (PyG's two attentions each against ours,
    the others ours only, beside full attention) and ours without a mixer."""
    from graphformers.registry import MIXERS

    return (*MIXERS.names(), WITHOUT_MIXER)
DATASETS = {"hiv": {"name": "smiles-csv", "options": {"path": "MoleculeNet/hiv/raw/HIV.csv", "smiles": "smiles",
                                                      "targets": ["HIV_active"], "split": "scaffold",
                                                      "skip_invalid": True}}}
"""Batch sets read through a dataset other than the registered one of their name."""


def batch_sets(names: Sequence[str], graphs_needed: int, root: str | None) -> list[tuple[str, object]]:
    """``(name, (graphs, info))`` for each set, or ``(name, reason)`` when its data is missing."""
    sets: list[tuple[str, object]] = []
    for name in names:
        if name == "generated":
            sets.append((name, (generated_graphs(graphs_needed), GENERATED)))
            continue
        try:
            dataset = DATASETS.get(name, {"name": name, "options": {"download": False}})
            splits = load_split_dataset(DataConfig(root=root, **dataset))
        except (MissingDataError, RecipeError) as error:
            sets.append((name, f"skipped: data not found ({str(error).splitlines()[0]})"))
            continue
        sets.append((name, (list(splits.train[:graphs_needed]), splits.info)))
    return sets


def run_model(set_names: Sequence[str], mixers: Sequence[str], batch_size: int, num_batches: int, model: dict,
              repeats: int, device: str, root: str | None = None,
              precisions: Sequence[str] = ("32-true",)) -> list[dict]:
    """One row per (batch set, mixer, precision, implementation), plus one per skipped set."""
    env, rows = environment(device), []
    sets = batch_sets(set_names, batch_size * num_batches, root)
    runs = sum(len(mixers) * len(precisions) * 2 * repeats for _, content in sets if not isinstance(content, str))
    with tempfile.TemporaryDirectory() as scratch, tqdm(total=runs, desc="model", unit="run") as progress:
        for set_name, content in sets:
            if isinstance(content, str):
                rows.append({"suite": "model", "batches": set_name, "status": content, **env})
                continue
            graphs, info = content
            path = Path(scratch) / f"{set_name}.pt"
            _save_batches(path, graphs, batch_size, info, model)
            base = {"suite": "model", "batches": f"{set_name} ({len(graphs) // batch_size} x {batch_size})",
                    "graphs": len(graphs) // batch_size * batch_size, **env}
            for mixer in mixers:
                for precision in precisions:
                    results = _alternating(mixer, precision, path, repeats, device, progress)
                    rows.extend(_rows({**base, "precision": precision}, mixer, results, graphs, batch_size))
    _compare_with_float32(rows)
    return rows


def _compare_with_float32(rows: list[dict]) -> None:
    """``speedup_vs_float32`` of ours in each mixed precision: ours in float32 on the same batches and mixer."""
    float32 = {(row["batches"], row["mixer"]): row["seconds"] for row in rows
               if row.get("implementation") == "ours" and row.get("precision") == "32-true" and row["status"] == "ok"}
    for row in rows:
        key = (row["batches"], row.get("mixer"))
        if row.get("implementation") == "ours" and row.get("precision") != "32-true" and row["status"] == "ok" \
                and key in float32:
            row["speedup_vs_float32"] = float32[key] / row["seconds"]


def _save_batches(path: Path, graphs: list[Data], batch_size: int, info: TaskInfo, model: dict) -> None:
    batches = [[{key: value for key, value in graph.items() if key in ("x", "edge_index", "edge_attr", "y")}
                | {"num_nodes": torch.tensor(graph.num_nodes)} for graph in graphs[start:start + batch_size]]
               for start in range(0, len(graphs) - batch_size + 1, batch_size)]
    torch.save({"batches": batches, "info": dict(info.__dict__), "model": model}, path)


def _alternating(mixer: str, precision: str, path: Path, repeats: int, device: str,
                 progress: tqdm) -> dict[str, list[dict]]:
    implementations = ("ours", "pyg") if mixer in PYG_ATTENTION else ("ours",)
    results: dict[str, list[dict]] = {implementation: [] for implementation in implementations}
    for repeat in range(repeats):
        order = implementations if repeat % 2 == 0 else implementations[::-1]
        for implementation in order:
            progress.set_postfix_str(f"{mixer}, {precision}, {implementation}")
            results[implementation].append(_worker(implementation, mixer, precision, path, device))
            progress.update()
    return results


def _worker(implementation: str, mixer: str, precision: str, path: Path, device: str) -> dict:
    command = [sys.executable, "-m", WORKER, implementation, mixer, str(path), "--device", device,
               "--precision", precision]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _rows(base: dict, mixer: str, results: dict[str, list[dict]], graphs: list[Data], batch_size: int) -> list[dict]:
    nodes = sum(graph.num_nodes for graph in graphs[: len(graphs) // batch_size * batch_size])
    summary = {}
    for implementation, runs in results.items():
        failed = [run["error"] for run in runs if "error" in run]
        if failed:
            summary[implementation] = {"status": f"failed: {failed[0]}"}
            continue
        seconds = statistics.median(run["seconds"][0] for run in runs)
        summary[implementation] = {"status": "ok", "seconds": seconds, "parameters": runs[0]["parameters"],
                                   "fastest_seconds": min(run["seconds"][0] for run in runs),
                                   "peak_mib": statistics.median(run["peak_mib"] for run in runs),
                                   "graphs_per_s": base["graphs"] / seconds, "nodes_per_s": nodes / seconds}
    rows = []
    for implementation, values in summary.items():
        row = {**base, "nodes": nodes, "mixer": mixer, "implementation": implementation, **values}
        if implementation == "ours" and values["status"] == "ok" and summary.get("pyg", {}).get("status") == "ok":
            row["speedup_vs_pyg"] = summary["pyg"]["seconds"] / values["seconds"]
            row["fastest_speedup_vs_pyg"] = summary["pyg"]["fastest_seconds"] / values["fastest_seconds"]
            row["memory_vs_pyg"] = values["peak_mib"] / summary["pyg"]["peak_mib"]
        rows.append(row)
    return rows


def markdown_table(rows: Sequence[dict]) -> str:
    """Ours vs PyG per batch set, mixer and precision: graphs/s and the speed-up of the median
    processes, the speed-up of the fastest ones, peak MiB, ratios."""
    lines = ["| batches | mixer | precision | PyG GPSConv graphs/s | ours graphs/s | speed-up (median) | "
             "speed-up (fastest) | PyG peak MiB | ours peak MiB | memory ratio | ours vs ours float32 | "
             "parameters (PyG / ours) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    by_key = {(row["batches"], row.get("mixer"), row.get("precision"), row.get("implementation")): row for row in rows}
    for row in rows:
        if "implementation" not in row:
            lines.append(f"| {row['batches']} | — | — | {row['status']} | | | | | | | | |")
            continue
        if row["implementation"] != "ours":
            continue
        pyg = by_key.get((row["batches"], row["mixer"], row["precision"], "pyg"))
        head = f"| {row['batches']} | {row['mixer']} | {row['precision']} |"
        float32 = f"{row['speedup_vs_float32']:.2f}x" if "speedup_vs_float32" in row else "—"
        if pyg is None:  # no PyG counterpart (a mixer PyG's GPSConv lacks, or none)
            measured = (f"{row['graphs_per_s']:.1f} | — | — | — | {row['peak_mib']:.0f} | — | {float32} | "
                        f"— / {row['parameters']:,} |" if row["status"] == "ok"
                        else f"{row['status']} | | | | | | | |")
            lines.append(f"{head} — | {measured}")
            continue
        if row["status"] != "ok" or pyg["status"] != "ok":
            lines.append(f"{head} {pyg['status']} | {row['status']} | | | | | | | |")
            continue
        lines.append(f"{head} {pyg['graphs_per_s']:.1f} | {row['graphs_per_s']:.1f} | {row['speedup_vs_pyg']:.2f}x | "
                     f"{row['fastest_speedup_vs_pyg']:.2f}x | "
                     f"{pyg['peak_mib']:.0f} | {row['peak_mib']:.0f} | {row['memory_vs_pyg']:.2f} | {float32} | "
                     f"{pyg['parameters']:,} / {row['parameters']:,} |")
    beside_full = mixers_table(rows)
    return "\n".join(lines) + (f"\n\n{beside_full}" if beside_full else "")


def mixers_table(rows: Sequence[dict]) -> str:
    """Ours with each other mixer beside ours with ``full`` attention, on the same batches and in the
    same precision: graphs/s, peak MiB and their ratios to full's ("" where the run measured no such pair)."""
    full = {(row["batches"], row["precision"]): row for row in rows
            if row.get("implementation") == "ours" and row.get("mixer") == "full" and row["status"] == "ok"}
    lines = []
    for row in rows:
        beside = full.get((row["batches"], row.get("precision")))
        if row.get("implementation") != "ours" or row.get("mixer") in ("full", WITHOUT_MIXER) or beside is None:
            continue
        head = f"| {row['batches']} | {row['mixer']} | {row['precision']} | {beside['graphs_per_s']:.1f} |"
        if row["status"] != "ok":
            lines.append(f"{head} {row['status']} | | | | | |")
            continue
        lines.append(f"{head} {row['graphs_per_s']:.1f} | {row['graphs_per_s'] / beside['graphs_per_s']:.2f}x | "
                     f"{beside['peak_mib']:.0f} | {row['peak_mib']:.0f} | {row['peak_mib'] / beside['peak_mib']:.2f} | "
                     f"{row['parameters']:,} |")
    if not lines:
        return ""
    return "\n".join(["| batches | mixer | precision | full graphs/s | mixer graphs/s | speed vs full | "
                      "full peak MiB | mixer peak MiB | memory vs full | parameters |",
                      "|---|---|---|---|---|---|---|---|---|---|", *lines])
