"""Training steps of one recipe, timed in their own process:
``python graphformers/benchmarks/step_worker.py RECIPE [KEY=VALUE ...] --batches K [--precision P]``.

Loads the recipe's dataset and model as ``python -m graphformers.train`` would, collates the
first ``K`` training batches in order as training collates them (pair encodings, block plans),
runs one untimed pass over them, then ``--passes`` timed passes: forward, loss, backward, and the
step of the optimizer training uses (``GraphTask.configure_optimizers``). Prints one JSON line: seconds per
step of each pass, the torch version and which ``graphformers`` ran (its folder), and with
``--profile`` the operators of one profiled pass that took most of its time.

It imports only what every version of graphformers since the recipe runner has (``load_recipe``,
``GraphDataModule``, ``GraphTask``), so the ``step`` suite runs this same file against an older
checkout (``--against``) to measure a change side by side.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch_geometric.data import Batch

from graphformers.data.datamodule import GraphDataModule
from graphformers.recipe import load_recipe
from graphformers.training.module import GraphTask

AUTOCAST = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}
"""As :data:`graphformers.benchmarks.parts_check.AUTOCAST`, repeated: this file also runs against older checkouts."""


def measure(recipe_path: str, overrides: list[str], batches: int, passes: int, precision: str,
            profile_rows: int) -> dict:
    """Seconds per training step of each timed pass (and the top operators of a profiled pass)."""
    recipe = load_recipe(Path(recipe_path), overrides)
    pl.seed_everything(recipe.train.seed, verbose=False)
    datamodule = GraphDataModule(recipe.data, seed=recipe.train.seed)
    task = GraphTask(recipe.to_dict(), dataclasses.asdict(datamodule.info))
    datamodule.set_precompute(task.model.precompute_transforms())
    if getattr(recipe.train, "compile", False):  # train.compile (checkouts before it had no such key)
        task.model.compile_for_training()
    first = list(datamodule.split("train")[:batches * recipe.data.batch_size])
    # the first graphs in order, collated as training collates them (pair encodings, block plan)
    collated = list(datamodule.loader(first, "sequential"))
    if precision == "64-true":
        task = task.double()
        for batch in collated:
            for key, value in batch.items():
                if isinstance(value, torch.Tensor) and value.is_floating_point():
                    batch[key] = value.double()
    configured = task.configure_optimizers()  # the optimizer training would use
    optimizer = configured["optimizer"] if isinstance(configured, dict) else configured
    task.train()

    def step(batch: Batch) -> None:
        optimizer.zero_grad(set_to_none=True)
        autocast = (torch.autocast("cpu", dtype=AUTOCAST[precision]) if precision in AUTOCAST
                    else contextlib.nullcontext())
        with autocast:
            output, target = task.predicted(task(batch), batch)
            loss = task.objective.loss(output.float() if precision in AUTOCAST else output, target)
        loss.backward()
        optimizer.step()

    for batch in collated:
        step(batch)
    seconds = []
    for _ in range(passes):
        start = time.perf_counter()
        for batch in collated:
            step(batch)
        seconds.append((time.perf_counter() - start) / batches)
    result = {"seconds_per_step": seconds, "nodes": sum(batch.num_nodes for batch in collated) / batches,
              "torch": torch.__version__, "graphformers": str(Path(sys.modules["graphformers"].__file__).parent.parent)}
    if profile_rows:
        result["profile"] = _profile(step, collated, profile_rows)
    return result


def _profile(step, batches: list[Batch], rows: int) -> list[dict]:
    """The operators that took most of one pass's CPU time (self time, as torch.profiler counts it)."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
        for batch in batches:
            step(batch)
    events = sorted(profiler.key_averages(), key=lambda event: event.self_cpu_time_total, reverse=True)
    total = sum(event.self_cpu_time_total for event in events)
    return [{"op": event.key, "ms_per_step": event.self_cpu_time_total / 1000 / len(batches),
             "share": event.self_cpu_time_total / total} for event in events[:rows]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("recipe")
    parser.add_argument("overrides", nargs="*")
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--precision", default="32-true", choices=["32-true", "64-true", *AUTOCAST])
    parser.add_argument("--profile", type=int, default=0, help="operators to list from one profiled pass (0: none)")
    args = parser.parse_args()
    print(json.dumps(measure(args.recipe, args.overrides, args.batches, args.passes, args.precision, args.profile)))


if __name__ == "__main__":
    main()
