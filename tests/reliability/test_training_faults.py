"""A diverging loss stops the run with a clear message and leaves the last good checkpoint intact,
or (``train.on_nonfinite_loss: skip``) skips the step and trains on."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from conftest import epoch_values

from graphformers.recipe import load_recipe
from graphformers.registry import MIXERS
from graphformers.training.module import NonFiniteLossError
from graphformers.training.runner import run

REPO = Path(__file__).resolve().parents[2]
# 300 graphs / batch 32 = 10 steps per epoch, one mixer call per step: step 15 is in epoch 1
SMALL = ["data.options.num_train=300", "data.options.num_val=64", "data.options.num_test=64", "model.layers=1",
         "model.hidden=32", "train.max_epochs=3", "train.progress_bar=false", "imports=[diverging_parts]"]


@pytest.fixture(autouse=True)
def diverging_parts(helper_module):
    """``diverging_parts`` importable by the recipes, its mixer registered only for this test."""
    helper_module(Path(__file__).with_name("diverging_parts.py"), MIXERS)


class ValidatedEpochs(pl.Callback):
    """The epochs in which a validation batch was run."""

    def __init__(self) -> None:
        self.epochs: list[int] = []

    def on_validation_batch_start(self, trainer: pl.Trainer, *args) -> None:
        if trainer.current_epoch not in self.epochs:
            self.epochs.append(trainer.current_epoch)


def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    recipe = load_recipe(REPO / "recipes" / "quickstart.yaml",
                         SMALL + ["model.mixer={name: nan-after, steps: 15}", f"train.out_dir={tmp_path}"])
    validated = ValidatedEpochs()
    with pytest.raises(NonFiniteLossError) as error:
        run(recipe, callbacks=[validated])
    assert validated.epochs == [0]  # the diverged epoch stops before its validation
    last = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    message = str(error.value)
    assert "epoch 1, batch 4: the training loss is nan" in message
    assert f"The last good checkpoint is {last}; resume from it with --resume." in message
    checkpoint = torch.load(last, weights_only=True)
    assert checkpoint["epoch"] == 0
    assert all(torch.isfinite(value).all() for value in checkpoint["state_dict"].values() if value.is_floating_point())


def test_skip_mode_skips_the_bad_step_and_finishes(tmp_path):
    recipe = load_recipe(REPO / "recipes" / "quickstart.yaml",
                         SMALL + ["model.mixer={name: nan-after, steps: 15, once: true}",
                                  "train.on_nonfinite_loss=skip", f"train.out_dir={tmp_path}"])
    result = run(recipe)
    assert epoch_values(result.metrics_csv, "train/skipped_steps") == {1: 1.0}
    assert math.isfinite(result.test_value)
    weights = torch.load(result.last_checkpoint, weights_only=True)["state_dict"]
    assert all(torch.isfinite(value).all() for value in weights.values() if value.is_floating_point())
