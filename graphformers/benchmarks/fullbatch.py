"""The ``fullbatch`` suite: full-batch training epochs on one large graph, and where their time goes.

For each recipe (by default the minesweeper baselines the reproduction table runs), one epoch of
full-batch training is taken apart on the data module's prebuilt batches: the training forward
pass with the loss, backward, the optimiser step, and the validation forward pass with the metric.
Each part is warmed up, then timed ``repeats`` times; the median is reported. Local blocks that
accept the sparse adjacency are timed both ways: on ``adj_t`` (what training uses) and on
per-edge messages over ``edge_index`` (what they did before), side by side in one process.
``collate_ms`` is what collating the graph again every epoch would cost (the data module now does
it once). Then a real Lightning run of ``trainer_epochs`` epochs times whole epochs (median of
the epoch-to-epoch intervals after the first), so the loop's own cost (logging, checkpoints,
metric sync) is the difference.
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch_geometric.data import Batch

from graphformers.data.datamodule import GraphDataModule
from graphformers.local.base import LocalBlock
from graphformers.recipe import load_recipe
from graphformers.resources import environment
from graphformers.task import TASKS
from graphformers.training.module import GraphTask
from graphformers.training.runner import run

COLUMNS = ["suite", "recipe", "dataset", "local", "path", "hidden", "layers", "nodes", "edges", "collate_ms",
           "forward_ms", "backward_ms", "optimizer_ms", "evaluate_ms", "epoch_ms", "epochs_per_s",
           "speedup_vs_per_edge", "trainer_epoch_ms", "loop_overhead_ms", "status", "device", "torch", "pyg",
           "threads", "commit"]
PARTS = ("forward_ms", "backward_ms", "optimizer_ms", "evaluate_ms")


class EpochTimer(pl.Callback):
    """The start time of every training epoch (an epoch's full time is the gap to the next start)."""

    def __init__(self) -> None:
        self.starts: list[float] = []

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.starts.append(time.perf_counter())


def run_fullbatch(recipes: Sequence[Path], overrides: Sequence[str], repeats: int, trainer_epochs: int) -> list[dict]:
    """One row per (recipe, aggregation path): ``adjacency`` and ``per-edge`` for blocks that accept
    the sparse adjacency, ``per-edge`` for the rest.

    Args:
        recipes (Sequence[Path]): recipes of one-graph node-level datasets.
        overrides (Sequence[str]): ``key=value`` overrides applied to every recipe.
        repeats (int): timed runs of each part after one warm-up.
        trainer_epochs (int): epochs of the Lightning run (at least 3; 0 skips it).
    """
    env, rows = environment(), []
    for path in recipes:
        recipe = load_recipe(path, list(overrides) + ["train.progress_bar=false"])
        pl.seed_everything(recipe.train.seed, verbose=False)
        datamodule = GraphDataModule(recipe.data, seed=recipe.train.seed)
        task = GraphTask(recipe.to_dict(), dataclasses.asdict(datamodule.info))
        datamodule.set_precompute(task.model.precompute_transforms())
        train, val = next(iter(datamodule.train_dataloader())), next(iter(datamodule.val_dataloader()))
        graph = datamodule.split("train")[0]
        base = {"suite": "fullbatch", "recipe": recipe.name, "dataset": recipe.data.name,
                "local": recipe.model.local.name if recipe.model.local else "none", "hidden": recipe.model.hidden,
                "layers": recipe.model.layers, "nodes": graph.num_nodes, "edges": graph.edge_index.size(1),
                "collate_ms": _median_ms(lambda graph=graph: Batch.from_data_list([graph]), repeats), **env}
        paths = {"per-edge": (_without_adjacency(train), _without_adjacency(val))}
        if any(isinstance(m, LocalBlock) and m.accepts_adjacency for m in task.model.modules()):
            paths = {"adjacency": (train, val), **paths}
        measured = [{**base, "path": name, **_epoch_parts(task, *batches, repeats), "status": "ok"}
                    for name, batches in paths.items()]
        per_edge = measured[-1]["epoch_ms"]
        for row in measured:
            row["speedup_vs_per_edge"] = round(per_edge / row["epoch_ms"], 2)
        if trainer_epochs:
            trained = _trainer_epoch_ms(path, overrides, trainer_epochs)
            measured[0].update(trainer_epoch_ms=round(trained, 1),
                               loop_overhead_ms=round(trained - measured[0]["epoch_ms"], 1))
        rows.extend(measured)
    return rows


def _without_adjacency(batch: Batch) -> Batch:
    """A shallow copy of ``batch`` without ``adj_t``: the blocks then pass messages along ``edge_index``."""
    plain = copy.copy(batch)
    del plain.adj_t
    return plain


def _epoch_parts(task: GraphTask, train: Batch, val: Batch, repeats: int) -> dict:
    """Median milliseconds of each part of one full-batch epoch, their sum and epochs per second.
    Each training step is timed part by part (forward with the loss, backward, optimiser step)."""
    configured = task.configure_optimizers()
    optimizer = configured["optimizer"] if isinstance(configured, dict) else configured
    steps = []
    for _ in range(max(repeats, 1) + 1):  # the first step warms up
        task.train()
        started = time.perf_counter()
        output, target = task.predicted(task(train), train)
        loss = task.objective.loss(output, target)
        forward_done = time.perf_counter()
        loss.backward()
        backward_done = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad()
        steps.append((forward_done - started, backward_done - forward_done, time.perf_counter() - backward_done))

    def evaluate() -> None:
        task.eval()
        with torch.no_grad():
            output, target = task.predicted(task(val), val)
            task.val_metric.update(*TASKS[task.info.task].metric_inputs(output, target))
            task.val_metric.compute()
            task.val_metric.reset()

    forward, backward, step = (1000.0 * statistics.median(part) for part in zip(*steps[1:], strict=True))
    parts = {"forward_ms": forward, "backward_ms": backward, "optimizer_ms": step,
             "evaluate_ms": _median_ms(evaluate, repeats)}
    epoch = sum(parts.values())
    return {**{key: round(value, 1) for key, value in parts.items()}, "epoch_ms": round(epoch, 1),
            "epochs_per_s": round(1000.0 / epoch, 2)}


def _median_ms(work: Callable[[], object], repeats: int) -> float:
    work()
    times = []
    for _ in range(max(repeats, 1)):
        started = time.perf_counter()
        work()
        times.append(1000.0 * (time.perf_counter() - started))
    return statistics.median(times)


def _trainer_epoch_ms(path: Path, overrides: Sequence[str], epochs: int) -> float:
    """Median whole-epoch time (training step, validation, logging, checkpoints) of a real run, on the
    CPU like the parts."""
    timer = EpochTimer()
    with tempfile.TemporaryDirectory() as out:
        recipe = load_recipe(path, list(overrides) + [f"train.max_epochs={max(epochs, 3)}", "train.progress_bar=false",
                                                      "train.accelerator=cpu", f"train.out_dir={out}"])
        run(recipe, callbacks=[timer])
    gaps = [1000.0 * (later - earlier) for earlier, later in itertools.pairwise(timer.starts[1:])]
    return statistics.median(gaps)


def markdown_table(rows: Sequence[dict]) -> str:
    """Epochs per second and the milliseconds of each part of an epoch, per recipe and path."""
    lines = ["| recipe | path | epochs/s | forward | backward | optimizer | evaluate | epoch (ms) | vs per-edge "
             "| trainer epoch (ms) | collate avoided (ms) |", "|" + "---|" * 11]
    for row in rows:
        lines.append(f"| {row['recipe']} | {row['path']} | {row['epochs_per_s']} | "
                     + " | ".join(str(row[part]) for part in PARTS)
                     + f" | {row['epoch_ms']} | {row['speedup_vs_per_edge']}x | {row.get('trainer_epoch_ms', '')} | "
                     f"{round(row['collate_ms'], 1)} |")
    first = rows[0] if rows else {}
    lines.append(f"\n{first.get('dataset', '')}: {first.get('nodes', '')} nodes, {first.get('edges', '')} directed "
                 f"edges; {first.get('device', '')}, {first.get('threads', '')} threads, torch "
                 f"{first.get('torch', '')}.")
    return "\n".join(lines)
