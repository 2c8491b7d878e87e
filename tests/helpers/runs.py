"""Small runs of the quickstart recipe, exact resumption, and what the command line says when it refuses one."""
from __future__ import annotations

from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

from graphformers.cli import main as cli
from graphformers.recipe import load_recipe
from graphformers.training.runner import run


def small_quickstart(num_train: int = 64, num_val: int = 32, num_test: int = 32, *overrides: str) -> list[str]:
    """Overrides that make the quickstart a run of seconds: fewer relay graphs, one layer, no progress bar.

    Args:
        num_train (int, optional): training graphs.
        num_val (int, optional): validation graphs.
        num_test (int, optional): test graphs.
        *overrides (str): more dotted overrides, applied after these.
    """
    return [f"data.options={{num_train: {num_train}, num_val: {num_val}, num_test: {num_test}}}",
            "train.progress_bar=false", "model.layers=1", *overrides]


def error_line(capsys: pytest.CaptureFixture) -> str:
    """The one line the command printed to stderr, which must start with ``error:``."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def refused_training(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    """``graphformers train ARGV`` must exit 2 with one ``error:`` line; that line."""
    assert cli(["train", *argv]) == 2
    return error_line(capsys)


class StopAfterFirstEpoch(pl.Callback):
    """Simulates an interruption right after the first epoch's checkpoint."""

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        trainer.should_stop = True


def check_resume_is_exact(recipe: Path, overrides: list[str], out: Path) -> None:
    """Train ``recipe`` with ``overrides`` straight through, and again stopped after its first epoch and
    resumed from the last checkpoint: the two last checkpoints' weights must be equal to the bit, and
    so must the test metrics.

    Args:
        recipe (Path): the recipe file.
        overrides (list of str): dotted overrides of both runs (at least 2 epochs).
        out (Path): a folder for the two runs.
    """
    straight = run(load_recipe(recipe, [*overrides, f"train.out_dir={out / 'straight'}"]))
    interrupted_recipe = load_recipe(recipe, [*overrides, f"train.out_dir={out / 'interrupted'}"])
    interrupted = run(interrupted_recipe, callbacks=[StopAfterFirstEpoch()])
    assert torch.load(interrupted.last_checkpoint, weights_only=True)["epoch"] == 0
    resumed = run(interrupted_recipe, resume="last")
    expected = torch.load(straight.last_checkpoint, weights_only=True)
    actual = torch.load(resumed.last_checkpoint, weights_only=True)
    assert actual["epoch"] == expected["epoch"] == interrupted_recipe.train.max_epochs - 1
    for name, tensor in expected["state_dict"].items():
        torch.testing.assert_close(actual["state_dict"][name], tensor, rtol=0, atol=0, msg=name)
    assert resumed.test_value == straight.test_value
