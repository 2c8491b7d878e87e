"""``--resume`` and ``predict`` given a checkpoint they cannot use: truncated or damaged, or of a
model of another shape. One ``error:`` line each, before anything is trained, naming what to do."""
from __future__ import annotations

from pathlib import Path

import pytest
from helpers.paths import QUICKSTART
from helpers.runs import error_line, small_quickstart

from graphformers.cli import main as cli

SMALL = small_quickstart(64, 32, 32, "train.max_epochs=2")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """The checkpoints folder of a finished two-epoch quickstart run (``best.ckpt``, ``last.ckpt``)."""
    out = tmp_path_factory.mktemp("run")
    assert cli(["train", QUICKSTART, *SMALL, f"train.out_dir={out}"]) == 0
    return out


@pytest.mark.parametrize("damage", ["truncated", "zeroed"])
def test_resuming_from_a_damaged_checkpoint_names_the_runs_other_checkpoints(finished_run, capsys, damage):
    checkpoints = finished_run / "version_0" / "checkpoints"
    last = checkpoints / "last.ckpt"
    intact = last.read_bytes()
    try:
        last.write_bytes(intact[:len(intact) // 2] if damage == "truncated" else bytes(len(intact)))
        assert cli(["train", QUICKSTART, *SMALL, f"train.out_dir={finished_run}", "--resume", "last"]) == 2
        error = error_line(capsys)
        assert error.startswith(f"error: {last}: not a readable checkpoint: the file is truncated or damaged")
        assert f"Other checkpoints of this run: {checkpoints / 'best.ckpt'}; use one of them instead." in error
        assert not (finished_run / "version_1").exists()  # nothing started
    finally:
        last.write_bytes(intact)


def test_predicting_from_a_damaged_checkpoint_iserror_line(finished_run, capsys, tmp_path):
    damaged = tmp_path / "copy.ckpt"
    damaged.write_bytes((finished_run / "version_0" / "checkpoints" / "best.ckpt").read_bytes()[:5000])
    graphs = tmp_path / "graphs.csv"
    graphs.write_text("smiles\nCCO\n")
    assert cli(["predict", str(damaged), str(graphs)]) == 2
    error = error_line(capsys)
    assert f"{damaged}: not a readable checkpoint" in error and "No other checkpoint of its run is beside it" in error


def test_resuming_with_a_changed_model_shape_names_the_tensors_and_the_setting(finished_run, capsys):
    last = finished_run / "version_0" / "checkpoints" / "last.ckpt"
    assert cli(["train", QUICKSTART, *SMALL, f"train.out_dir={finished_run}", "model.hidden=32",
                       "--resume", str(last)]) == 2
    error = error_line(capsys)
    assert f"--resume {last}: the model this recipe builds does not match the checkpoint's" in error
    assert "in the checkpoint" in error and "[64" in error and "[32" in error  # a tensor's two shapes
    assert "The recipe differs from the checkpoint's in model.hidden 64 -> 32: resume without those overrides" in error
    assert "start a fresh run without --resume" in error
