"""A training step of a graph mini-batch never waits for the device: mixers read the block plan
collated with the batch, the loss and the non-finite check stay on the device (what a GPU run of
the Peptides-func recipe needs, checked here on the CPU with :class:`HostReads`)."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from conftest import random_batch
from host_reads import HostReads
from torch_geometric.data import Batch

from graphformers.cli.entry import parse_command
from graphformers.data.datamodule import GraphDataModule
from graphformers.experiments.multirun import parse_indices
from graphformers.mixers.size_groups import (
    MAX_PAD_RATIO,
    PLAN_KEY,
    SizePlan,
    padded_blocks,
    plan_of,
)
from graphformers.recipe import load_recipe
from graphformers.task import TASKS
from graphformers.training.module import FirstNonFiniteLoss, GraphTask

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def peptides_batches(peptides_root):
    """The Peptides-func GPS recipe's task and data module, on the real files, 16 graphs a batch."""
    def build(*overrides: str) -> tuple[GraphTask, Batch]:
        recipe = load_recipe(REPO / "recipes" / "peptides-func-gps.yaml",
                             [f"data.root={peptides_root}", "data.batch_size=16", *overrides])
        datamodule = GraphDataModule(recipe.data, seed=0)
        task = GraphTask(recipe.to_dict(), dataclasses.asdict(datamodule.info))
        datamodule.set_precompute(task.model.precompute_transforms())
        datamodule.splits.val = datamodule.splits.val[:32]
        return task, next(iter(datamodule.val_dataloader()))
    return build


def test_the_recorder_sees_each_kind_of_host_read():
    x = torch.randn(6)
    with HostReads() as recorder:
        x.sum().item()
        x[x > 0].sum()
        x.nonzero()
        torch.bincount(torch.tensor([0, 2]))
        x.tolist()
        torch.repeat_interleave(torch.tensor([1, 2]))
    assert set(recorder.reads) == {"_local_scalar_dense", "nonzero", "index with a boolean mask", "bincount", "tolist",
                                   "repeat_interleave without output_size"}


@pytest.mark.parametrize("mixer", ["full", "performer", "polynormer"])
def test_a_training_step_of_the_peptides_recipe_reads_nothing_from_the_device(peptides_batches, mixer):
    task, batch = peptides_batches(f"model.mixer={mixer}")
    assert isinstance(batch[PLAN_KEY], SizePlan)  # planned where the batch was collated
    task.train()
    with HostReads() as recorder:
        output, target = task.predicted(task(batch), batch)
        loss = task.objective.loss(output, target)
        task.nonfinite.record(loss, batch_idx=0)
        loss.backward()
    assert not recorder.reads, recorder.report()
    assert task.nonfinite.read() is None
    mixed = [p.grad for name, p in task.model.named_parameters() if ".mixer." in name]
    assert mixed and all(grad is not None and grad.abs().sum() > 0 for grad in mixed)


def test_the_collated_plan_is_the_one_the_mixers_would_make_and_gives_the_same_output(peptides_batches):
    task, batch = peptides_batches()
    task.eval()
    planned = batch[PLAN_KEY]
    fresh = padded_blocks(batch.batch, batch.num_graphs)
    for block, fresh_block in zip(planned.blocks, fresh.blocks, strict=True):
        for value, expected in zip(block, fresh_block, strict=True):
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(expected))
        assert block.complete == bool(block.valid.all())
        assert block.index.size(1) <= MAX_PAD_RATIO * block.valid.sum(1).min()  # padding bounded
    for value, expected in zip(planned[1:-1], fresh[1:-1], strict=True):
        assert torch.equal(value, expected)
    assert planned.rows == {} and fresh.rows == {}  # channel-row maps are made by the first mixer that reads them
    # every node in exactly one real slot, and the slot it is read back from holds it
    real = torch.cat([block.valid.flatten() for block in planned.blocks])
    assert torch.equal(planned.gather[real].sort().values, torch.arange(batch.num_nodes))
    assert torch.equal(planned.gather[planned.slot], torch.arange(batch.num_nodes))
    assert bool(real[planned.slot].all())
    sizes = [block.index.numel() for block in planned.blocks]  # each node's block: its first slot and its slots
    starts = torch.tensor([sum(sizes[:b]) for b in range(len(sizes))])
    owner = torch.searchsorted(starts, planned.slot, right=True) - 1
    assert torch.equal(planned.block_start, starts[owner])
    assert torch.equal(planned.block_slots, torch.tensor(sizes)[owner])
    with torch.no_grad():
        with_plan = task(batch)
        del batch[PLAN_KEY]
        planned_now = task(batch)
    torch.testing.assert_close(with_plan, planned_now)


def test_one_plan_serves_every_layer_and_travels_with_the_batch(monkeypatch):
    batch = random_batch((7, 12, 4, 9, 9))
    calls = []
    monkeypatch.setattr("graphformers.mixers.size_groups.padded_blocks",
                        lambda *args: calls.append(args) or padded_blocks(*args))
    first = plan_of(batch)
    assert plan_of(batch) is first and len(calls) == 1
    moved = batch.apply(lambda t: t.clone())  # what .to(device) and .pin_memory() do to every attribute
    assert isinstance(moved[PLAN_KEY], SizePlan)
    assert moved[PLAN_KEY].blocks[0].index is not first.blocks[0].index
    assert torch.equal(moved[PLAN_KEY].blocks[0].index, first.blocks[0].index)
    assert moved[PLAN_KEY].slot is not first.slot and torch.equal(moved[PLAN_KEY].slot, first.slot)


def test_mini_batches_are_pinned_only_for_a_cuda_device(peptides_root):
    recipe = load_recipe(REPO / "recipes" / "peptides-func-gps.yaml", [f"data.root={peptides_root}"])
    datamodule = GraphDataModule(recipe.data, seed=0)
    assert not datamodule.val_dataloader().pin_memory
    datamodule.trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("cuda", 0)),
                                         world_size=1, global_rank=0)
    assert datamodule.val_dataloader().pin_memory


def test_the_first_nonfinite_loss_of_an_epoch_is_kept_on_the_device():
    watch = FirstNonFiniteLoss()
    assert watch.read() is None
    for batch_idx, loss in enumerate([0.7, 0.5, float("nan"), float("inf"), 0.3], start=3):  # resumed at batch 3
        watch.record(torch.tensor(loss), batch_idx)
    first, value = watch.read()
    assert first == 5 and value != value  # NaN
    watch.reset()
    watch.record(torch.tensor(float("-inf")), 0)
    assert watch.read() == (0, float("-inf"))


def test_the_multilabel_loss_weights_out_missing_labels_exactly():
    torch.manual_seed(0)
    logits = torch.randn(6, 4, requires_grad=True)
    target = torch.randint(0, 2, (6, 4)).float()
    target[torch.rand(6, 4) < 0.3] = float("nan")
    labelled = ~target.isnan()
    expected = F.binary_cross_entropy_with_logits(logits[labelled], target[labelled])
    torch.testing.assert_close(TASKS["multilabel"].loss(logits, target, None), expected)


def test_the_readme_gpu_command_is_the_full_peptides_schedule_with_workers():
    line = re.search(r"python -m graphformers\.train (recipes/peptides-func-gps\.yaml[^\n]*)",
                     (REPO / "docs" / "results.md").read_text()).group(1)
    _, args = parse_command(["train", *line.split()])
    recipe = load_recipe(REPO / args.recipe, args.overrides)
    assert (recipe.train.accelerator, recipe.train.max_epochs, recipe.model.mixer.name) == ("gpu", 200, "full")
    assert recipe.data.num_workers > 0 and len(parse_indices(args.seeds, "--seeds")) >= 3
