"""Mistakes a new user makes, each answered by one ``error:`` line (exit status 2) before anything is
trained, and Ctrl-C answered by a checkpoint and the command that resumes."""
from __future__ import annotations

import logging
import os
import shutil
import signal
import warnings

import pytest
import pytorch_lightning as pl
import torch
from helpers.paths import QUICKSTART, REPO
from helpers.runs import refused_training, small_quickstart

from graphformers.cli import main as cli
from graphformers.recipe import RecipeError, load_recipe
from graphformers.training import preflight
from graphformers.training.runner import TrainingInterrupted, run

SMALL = small_quickstart()


def test_a_feature_encoder_named_as_a_positional_encoding_lists_both_kinds(capsys, tmp_path):
    line = refused_training(capsys, [QUICKSTART, "model.encoders=[{name: linear}]", f"train.out_dir={tmp_path}"])
    assert "model.encoders: 'linear' is a feature encoder, not a positional encoder" in line
    assert "Positional encoders: degree, lap, maglap, rwse" in line
    assert "Feature encoders" in line and "embedding" in line
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_a_positional_encoding_named_as_a_feature_encoder_is_refused(tmp_path):
    with pytest.raises(RecipeError, match="model.node_encoder: 'rwse' is a positional encoder, not a feature encoder"):
        load_recipe(QUICKSTART, ["model.node_encoder=rwse"])


@pytest.mark.parametrize("override", ["model.layers=1000000", "model.hidden=200000", "model.ffn_ratio=100000000"])
def test_a_model_too_large_to_train_is_refused_before_it_is_built(override):
    with pytest.raises(RecipeError, match="could need up to .* GiB for weights, gradients and optimizer state"):
        load_recipe(QUICKSTART, [override])


def test_a_file_as_data_root_is_refused(capsys, tmp_path):
    line = refused_training(capsys, [QUICKSTART, f"data.root={REPO / 'README.md'}", f"train.out_dir={tmp_path}"])
    assert "is a file, not a folder" in line and "data.root" in line


def test_encodings_too_large_for_memory_are_refused_with_the_estimate(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(preflight, "machine_memory_bytes", lambda: 24 << 30)
    line = refused_training(capsys, [QUICKSTART, "model.encoders=[{name: lap, k: 100000, dim: 8}]",
                                    f"train.out_dir={tmp_path}", "train.progress_bar=false"])
    # relay's 3,000 graphs of 24-48 nodes: ~108,000 nodes x 200,000 floats (eigenvectors + eigenvalues) x 4 bytes
    assert "would take 8" in line and "GiB" in line and "LaplacianEigenvectors(k=100000" in line
    assert "above the 12.0 GiB" in line and "largest graph here has 48 nodes" in line
    assert not (tmp_path / "version_0").exists()


def test_the_memory_estimate_counts_every_node_and_channel(tmp_path):
    recipe = load_recipe(QUICKSTART, [*SMALL,
                                      "model.encoders=[{name: lap, k: 5, dim: 4}, {name: rwse, steps: 3, dim: 4}]"])
    from graphformers.data.datamodule import GraphDataModule
    from graphformers.models.gps import GPSModel

    datamodule = GraphDataModule(recipe.data)
    transforms = GPSModel(recipe.model, datamodule.info).precompute_transforms()
    nodes = sum(g.num_nodes for split in (datamodule.splits.train, datamodule.splits.val, datamodule.splits.test)
                for g in split)
    needed = nodes * (2 * 5 + 3) * 4
    preflight.check_encoding_memory(datamodule, transforms, needed)
    with pytest.raises(RecipeError, match=f"{nodes:,} nodes"):
        preflight.check_encoding_memory(datamodule, transforms, needed - 1)


def test_resume_followed_by_an_override_resumes_and_applies_it(capsys, tmp_path):
    common = [QUICKSTART, *SMALL, f"train.out_dir={tmp_path}"]
    assert cli(["train", *common, "train.max_epochs=1"]) == 0
    assert cli(["train", *common, "--resume", "train.max_epochs=2"]) == 0
    assert torch.load(tmp_path / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 1
    assert not (tmp_path / "version_1").exists()
    capsys.readouterr()


class CtrlC(pl.Callback):
    """Presses Ctrl-C (raises KeyboardInterrupt, as Python does on SIGINT) after the 3rd batch of epoch 1."""

    def on_train_batch_end(self, trainer: pl.Trainer, module, outputs, batch, batch_idx: int) -> None:
        if trainer.current_epoch == 1 and batch_idx == 2:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_a_checkpoint_says_how_to_resume_and_resuming_is_exact(tmp_path, ctrl_c_raises):
    overrides = [*SMALL, "data.options.num_train=160", "train.max_epochs=3", "model.dropout=0.2"]  # 5 batches
    recipe = load_recipe(QUICKSTART, [*overrides, f"train.out_dir={tmp_path / 'interrupted'}"])
    with pytest.raises(TrainingInterrupted) as raised:
        run(recipe, callbacks=[CtrlC()])
    checkpoints = tmp_path / "interrupted" / "version_0" / "checkpoints"
    message = str(raised.value)
    assert "interrupted by Ctrl-C (SIGINT) in epoch 1, at training step 8" in message
    assert f"{checkpoints / 'last.ckpt'} (end of epoch 0)" in message and "--resume" in message
    assert str(checkpoints / "interrupted.ckpt") in message
    assert torch.load(checkpoints / "interrupted.ckpt", weights_only=True)["global_step"] == 5 + 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C works again afterwards

    interrupted = checkpoints.parent.parent.parent / "from-the-moment"  # the same run, resumed mid-epoch
    shutil.copytree(checkpoints.parent.parent, interrupted)
    resumed = run(recipe, resume="last")
    at_the_moment = run(recipe, resume=str(interrupted / "version_0" / "checkpoints" / "interrupted.ckpt"))
    straight = run(load_recipe(QUICKSTART, [*overrides, f"train.out_dir={tmp_path / 'straight'}"]))
    expected = torch.load(straight.last_checkpoint, weights_only=True)["state_dict"]
    for run_result in (resumed, at_the_moment):  # from the last epoch's end, and from the moment of Ctrl-C
        actual = torch.load(run_result.last_checkpoint, weights_only=True)["state_dict"]
        for name, tensor in expected.items():
            torch.testing.assert_close(actual[name], tensor, rtol=0, atol=0, msg=name)


class Sigterm(pl.Callback):
    """A scheduler's stop: SIGTERM to this process after the third batch of epoch 1."""

    def on_train_batch_end(self, trainer: pl.Trainer, module, outputs, batch, batch_idx: int) -> None:
        if trainer.current_epoch == 1 and batch_idx == 2:
            os.kill(os.getpid(), signal.SIGTERM)


def test_sigterm_is_named_keeps_the_moment_and_the_last_epoch_and_leaves_handlers_as_found(tmp_path, caplog):
    overrides = [*SMALL, "data.options.num_train=160", "train.max_epochs=3", f"train.out_dir={tmp_path}"]
    recipe = load_recipe(QUICKSTART, overrides)
    sigterm = signal.getsignal(signal.SIGTERM)
    saving = logging.getLogger("pytorch_lightning.trainer.connectors.checkpoint_connector")
    saving.addHandler(caplog.handler)
    try:
        with pytest.raises(TrainingInterrupted) as raised:
            run(recipe, callbacks=[Sigterm()])
    finally:
        saving.removeHandler(caplog.handler)
    assert "weights_only" not in caplog.text  # interrupted.ckpt says what it saves: no "not set" notice
    checkpoints = tmp_path / "version_0" / "checkpoints"
    message = str(raised.value)
    assert message.startswith("interrupted by SIGTERM (a scheduler's stop or preemption, or kill) in epoch 1")
    assert f"{checkpoints / 'last.ckpt'} (end of epoch 0)" in message
    assert str(checkpoints / "interrupted.ckpt") in message
    assert torch.load(checkpoints / "interrupted.ckpt", weights_only=True)["epoch"] == 1
    assert signal.getsignal(signal.SIGTERM) is sigterm

    # resuming from the moment goes on with the epoch's remaining batches and its random state, exactly
    resumed_batches, straight_batches = EpochBatches(), EpochBatches()
    resumed = run(recipe, resume=str(checkpoints / "interrupted.ckpt"), callbacks=[resumed_batches])
    straight = run(load_recipe(QUICKSTART, [*SMALL, "data.options.num_train=160", "train.max_epochs=3",
                                            f"train.out_dir={tmp_path / 'straight'}"]), callbacks=[straight_batches])
    assert [index for index, _ in resumed_batches.seen[1]] == [3, 4]
    assert resumed_batches.seen == {1: straight_batches.seen[1][3:], 2: straight_batches.seen[2]}
    expected = torch.load(straight.last_checkpoint, weights_only=True)["state_dict"]
    actual = torch.load(resumed.last_checkpoint, weights_only=True)["state_dict"]
    for name, tensor in expected.items():
        torch.testing.assert_close(actual[name], tensor, rtol=0, atol=0, msg=name)


def test_lightning_warns_of_a_mid_epoch_resume_only_from_a_checkpoint_that_kept_no_position(tmp_path):
    """Lightning warns that resuming mid-epoch is unreliable: untrue where TrainingPosition kept the position,
    true for a mid-epoch checkpoint written without it."""
    recipe = load_recipe(QUICKSTART, [*SMALL, "data.options.num_train=160", "train.max_epochs=2",
                                      f"train.out_dir={tmp_path}"])
    with pytest.raises(TrainingInterrupted):
        run(recipe, callbacks=[Sigterm()])
    with_position = tmp_path / "version_0" / "checkpoints" / "interrupted.ckpt"
    checkpoint = torch.load(with_position, weights_only=True)
    assert "TrainingPosition" in checkpoint["callbacks"]
    del checkpoint["callbacks"]["TrainingPosition"]
    without_position = with_position.with_name("without-position.ckpt")
    torch.save(checkpoint, without_position)
    for path, warned in ((with_position, False), (without_position, True)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run(recipe, resume=str(path))
        assert any("ended before the epoch ended" in str(w.message) for w in caught) is warned, path.name


class EpochBatches(pl.Callback):
    """Per epoch, each training batch's index and its graphs' node counts (which graphs it holds)."""

    def __init__(self) -> None:
        self.seen: dict[int, list[tuple[int, list[int]]]] = {}

    def on_train_batch_start(self, trainer: pl.Trainer, module, batch, batch_idx: int) -> None:
        sizes = (batch.ptr[1:] - batch.ptr[:-1]).tolist()
        self.seen.setdefault(trainer.current_epoch, []).append((batch_idx, sizes))


def test_with_sigint_ignored_at_start_it_stays_ignored_after_an_interrupt(tmp_path):
    found = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a background job
    try:
        recipe = load_recipe(QUICKSTART, [*SMALL, "data.options.num_train=160", "train.max_epochs=2",
                                          f"train.out_dir={tmp_path}"])
        with pytest.raises(TrainingInterrupted, match="interrupted by Ctrl-C"):
            run(recipe, callbacks=[CtrlC()])
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, found)


def test_bad_data_in_any_split_is_refused_before_anything_is_written(tmp_path, isolated):
    from torch_geometric.data import Data

    from graphformers.data import SplitDataset, TaskInfo
    from graphformers.data.validation import DataValidationError
    from graphformers.registry import DATASETS, register_dataset

    isolated(DATASETS)
    info = TaskInfo(level="node", task="multiclass", num_outputs=2, metric="accuracy", node_encoder="linear", node_in=3)

    @register_dataset("nan-in-test", info)
    def nan_in_test(root: str) -> SplitDataset:
        def graph(x):
            return Data(x=x, edge_index=torch.tensor([[0, 1], [1, 0]]), y=torch.tensor([0, 1]), num_nodes=2)
        return SplitDataset([graph(torch.ones(2, 3))], [graph(torch.ones(2, 3))],
                            [graph(torch.tensor([[1.0, float("nan"), 0.0], [0.0, 0.0, 0.0]]))], info)

    recipe = load_recipe(QUICKSTART, ["data.name=nan-in-test", "model.encoders=[]",
                                      f"train.out_dir={tmp_path / 'runs'}"])
    with pytest.raises(DataValidationError, match="test graph 0: x has non-finite features"):
        run(recipe)
    assert not (tmp_path / "runs").exists()
