"""One training measurement of a recipe's model in its own process (so each peak memory is its own):
``python -m graphformers.benchmarks.pairs_worker RECIPE BATCH_SIZE NUM_BATCHES REPEATS [ROOT]``.

Collates the first ``BATCH_SIZE x NUM_BATCHES`` validation graphs as training collates them (pair
encodings included), then times one warm-up batch and ``REPEATS`` passes of forward, loss, backward
and AdamW step. Prints one JSON line: seconds per pass, the peak memory training added above what
the data and model held, graphs and nodes.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time

import torch

from graphformers.benchmarks.memory import added_mib, reset_peak
from graphformers.data.datamodule import GraphDataModule
from graphformers.recipe import load_recipe
from graphformers.training.module import GraphTask


def _train_pass(task: GraphTask, optimizer: torch.optim.Optimizer, batches: list) -> float:
    started = time.perf_counter()
    for batch in batches:
        loss = task.objective.loss(*task.predicted(task(batch), batch))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def measure(recipe_path: str, batch_size: int, num_batches: int, repeats: int, root: str | None) -> dict:
    """The measurement the module docstring describes."""
    recipe = load_recipe(recipe_path, [f"data.batch_size={batch_size}"] + ([f"data.root={root}"] if root else []))
    datamodule = GraphDataModule(recipe.data, seed=0)
    torch.manual_seed(0)
    task = GraphTask(recipe.to_dict(), dataclasses.asdict(datamodule.info))
    datamodule.set_precompute(task.model.precompute_transforms())
    datamodule.splits.val = datamodule.splits.val[:batch_size * num_batches]
    batches = list(datamodule.val_dataloader())
    optimizer = torch.optim.AdamW(task.parameters(), lr=recipe.train.lr)
    task.train()
    device = torch.device("cpu")
    before = reset_peak(device)
    _train_pass(task, optimizer, batches[:1])
    passes = [_train_pass(task, optimizer, batches) for _ in range(repeats)]
    return {"name": recipe.name, "dataset": recipe.data.name, "passes": passes, "peak_mib": added_mib(before, device),
            "graphs": sum(b.num_graphs for b in batches), "nodes": sum(b.num_nodes for b in batches),
            "parameters": sum(p.numel() for p in task.parameters())}


if __name__ == "__main__":
    recipe_path, batch_size, num_batches, repeats, *root = sys.argv[1:]
    print(json.dumps(measure(recipe_path, int(batch_size), int(num_batches), int(repeats), root[0] if root else None)))
