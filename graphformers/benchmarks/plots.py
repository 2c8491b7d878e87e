"""One PNG per suite, drawn from the same rows as its CSV (matplotlib, no display needed)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)

IMPLEMENTATION_COLOURS = {"pyg": "tab:gray", "ours": "tab:blue"}


def _ok(rows: Sequence[dict]) -> list[dict]:
    return [row for row in rows if row.get("status") == "ok"]


def _save(figure: plt.Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_model(rows: Sequence[dict], path: Path) -> None:
    """Training graphs/s and peak memory, PyG ``GPSConv`` vs ours, per batch set, mixer and precision."""
    measured = _ok(rows)
    cases = list(dict.fromkeys((row["batches"], row["mixer"], row["precision"]) for row in measured))
    figure, axes = plt.subplots(1, 2, figsize=(max(6, 2.2 * len(cases) + 2), 4))
    width = 0.38
    for offset, implementation in ((-width / 2, "pyg"), (width / 2, "ours")):
        values = {(row["batches"], row["mixer"], row["precision"]): row for row in measured
                  if row["implementation"] == implementation}
        positions = [i + offset for i in range(len(cases))]
        label = "PyG GPSConv" if implementation == "pyg" else "graphformers"
        colour = IMPLEMENTATION_COLOURS[implementation]
        axes[0].bar(positions, [values[c]["graphs_per_s"] if c in values else 0 for c in cases], width,
                    label=label, color=colour)
        axes[1].bar(positions, [values[c]["peak_mib"] if c in values else 0 for c in cases], width,
                    label=label, color=colour)
    labels = [f"{batches.split(' (')[0]}\n{mixer}" + ("" if precision == "32-true" else f"\n{precision}")
              for batches, mixer, precision in cases]
    for axis, title in zip(axes, ("training throughput (graphs/s, higher is better)",
                                  "peak memory added by training (MiB, lower is better)"), strict=True):
        axis.set_xticks(range(len(cases)), labels)
        axis.set_title(title, fontsize=10)
        axis.legend()
    _save(figure, path)


def plot_scaling(rows: Sequence[dict], path: Path) -> None:
    """Seconds and peak memory of one GPS layer's forward + backward against N, log-log, per mixer."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    measured = _ok(rows)
    for mixer in dict.fromkeys(row["mixer"] for row in measured):
        points = sorted((row for row in measured if row["mixer"] == mixer), key=lambda row: int(row["nodes"]))
        nodes = [int(row["nodes"]) for row in points]
        axes[0].plot(nodes, [float(row["seconds"]) for row in points], marker="o", label=mixer)
        axes[1].plot(nodes, [max(float(row["peak_mib"]), 1e-3) for row in points], marker="o", label=mixer)
    for axis, title in zip(axes, ("forward + backward (s)", "peak memory added (MiB)"), strict=True):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("nodes N (~5N edges)")
        axis.set_title(title, fontsize=10)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    _save(figure, path)


def plot_encoders(rows: Sequence[dict], path: Path) -> None:
    """Precompute seconds per encoding and graph set: PyG's transforms vs ours (log scale)."""
    measured = _ok(rows)
    cases = list(dict.fromkeys((row["encoding"].split(" ")[0], row["graph_set"]) for row in measured))
    methods = list(dict.fromkeys(row["method"] for row in measured))
    figure, axis = plt.subplots(figsize=(max(6, 1.8 * len(cases) + 2), 4))
    width = 0.8 / max(len(methods), 1)
    for index, method in enumerate(methods):
        values = {(row["encoding"].split(" ")[0], row["graph_set"]): float(row["seconds"])
                  for row in measured if row["method"] == method}
        positions = [i - 0.4 + width * (index + 0.5) for i in range(len(cases))]
        axis.bar(positions, [values.get(case, 0) for case in cases], width, label=method)
    axis.set_xticks(range(len(cases)), [f"{encoding}\n{graph_set}" for encoding, graph_set in cases])
    axis.set_yscale("log")
    axis.set_ylabel("seconds (lower is better)")
    axis.set_title("positional-encoding precompute", fontsize=10)
    axis.legend()
    _save(figure, path)


def plot_fullbatch(rows: Sequence[dict], path: Path) -> None:
    """One stacked bar per (recipe, path): the milliseconds of a full-batch epoch's parts."""
    measured = _ok(rows)
    figure, axis = plt.subplots(figsize=(max(6, 1.3 * len(measured) + 2), 4))
    bottoms = [0.0] * len(measured)
    for part in ("forward_ms", "backward_ms", "optimizer_ms", "evaluate_ms"):
        values = [float(row[part]) for row in measured]
        axis.bar(range(len(measured)), values, 0.6, bottom=bottoms, label=part.removesuffix("_ms"))
        bottoms = [bottom + value for bottom, value in zip(bottoms, values, strict=True)]
    axis.set_xticks(range(len(measured)), [f"{row['recipe']}\n{row['path']}" for row in measured], fontsize=8)
    axis.set_ylabel("ms per epoch (lower is better)")
    axis.set_title("full-batch epoch on one graph", fontsize=10)
    axis.legend()
    _save(figure, path)


def plot_pairs(rows: Sequence[dict], path: Path) -> None:
    """Graphs/s of each precompute method and of each recipe's training, and training's peak memory."""
    measured = _ok(rows)
    precompute = [row for row in measured if row["part"] != "training"]
    training = [row for row in measured if row["part"] == "training"]
    figure, axes = plt.subplots(1, 3, figsize=(12, 4))
    for axis, subset, key, title in ((axes[0], precompute, "graphs_per_s", "precompute (graphs/s)"),
                                     (axes[1], training, "graphs_per_s", "training (graphs/s)"),
                                     (axes[2], training, "peak_mib", "training peak memory (MiB)")):
        axis.bar([row["method"] for row in subset], [row[key] for row in subset], color="tab:blue")
        axis.set_title(title)
        axis.tick_params(axis="x", rotation=20)
    _save(figure, path)
