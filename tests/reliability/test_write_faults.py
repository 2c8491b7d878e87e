"""Fault injection: the disk fills up at a random byte of a checkpoint, an encoding-cache entry, a
multi-run ledger (``summary.csv``). Each write leaves the previous file intact and nothing partial
behind, says so in one message naming the file and the space needed, and the next run continues."""
from __future__ import annotations

import errno
import os
import random
import tempfile
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from helpers.paths import QUICKSTART
from helpers.runs import small_quickstart

from graphformers.cli import main as cli
from graphformers.data.datamodule import GraphDataModule
from graphformers.encoders import RandomWalkLandingProbabilities
from graphformers.io import DiskFullError, atomic_torch_save
from graphformers.recipe import DataConfig, load_recipe
from graphformers.results.summary import RunRecord, read_records, write_records
from graphformers.training.runner import run

SMALL = small_quickstart()


class DiskFullAt:
    """``os.fdopen`` whose binary files hold at most ``limit`` bytes, then raise ENOSPC, as a full
    filesystem does; armed only for the ``armed``-th file opened for writing."""

    def __init__(self, limit: int, armed: int = 1, code: int = errno.ENOSPC) -> None:
        self.limit, self.armed, self.code, self.opened, self.fired = limit, armed, code, 0, False
        self.real = os.fdopen

    def __call__(self, fd, mode="r", *args, **kwargs):
        file = self.real(fd, mode, *args, **kwargs)
        if "w" not in mode:
            return file
        self.opened += 1
        if self.opened != self.armed:
            return file
        fault = self
        real_write = file.write

        class Filling:
            written = 0

            def write(self, data) -> int:
                room = fault.limit - Filling.written
                if len(data) > room:
                    real_write(bytes(data[:max(room, 0)]))
                    Filling.written = fault.limit
                    fault.fired = True
                    raise OSError(fault.code, os.strerror(fault.code))
                Filling.written += len(data)
                return real_write(data)

            def __getattr__(self, name):
                return getattr(file, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                file.close()
                return False

        return Filling()


def _leftovers(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.name.startswith(".") and path.name.endswith(".tmp")]


class FullDiskFromEpoch(pl.Callback):
    """Arms the fault for the checkpoint files written at the end of epoch ``epoch``."""

    def __init__(self, fault: DiskFullAt, epoch: int, monkeypatch) -> None:
        self.fault, self.epoch, self.monkeypatch = fault, epoch, monkeypatch

    def on_train_epoch_start(self, trainer, module) -> None:
        if trainer.current_epoch == self.epoch:
            self.fault.opened = 0
            self.monkeypatch.setattr(os, "fdopen", self.fault)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_full_disk_during_a_checkpoint_keeps_the_last_one_and_resume_continues(tmp_path, monkeypatch, seed):
    recipe = load_recipe(QUICKSTART, [*SMALL, "train.max_epochs=3", f"train.out_dir={tmp_path}"])
    checkpoints = tmp_path / "version_0" / "checkpoints"
    fault = DiskFullAt(limit=random.Random(seed).randint(0, 20_000))
    with pytest.raises(DiskFullError) as raised:
        run(recipe, callbacks=[FullDiskFromEpoch(fault, epoch=1, monkeypatch=monkeypatch)])
    monkeypatch.undo()
    assert fault.fired
    message = str(raised.value)
    assert "no space left on the device: writing it needs about" in message and "MB are free in" in message
    assert str(checkpoints) in message and "Nothing partial was left" in message and "--resume" in message
    assert not _leftovers(tmp_path)
    kept = torch.load(checkpoints / "last.ckpt", weights_only=True)
    assert kept["epoch"] == 0  # the previous checkpoint, whole
    resumed = run(recipe, resume="last")
    assert torch.load(resumed.last_checkpoint, weights_only=True)["epoch"] == 2


def test_a_full_disk_is_one_error_line_from_the_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(os, "fdopen", DiskFullAt(limit=100))
    assert cli(["train", QUICKSTART, *SMALL, "train.max_epochs=1", f"train.out_dir={tmp_path}"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: ") and "no space left on the device" in error[0]
    assert "[Errno" not in error[0]
    assert not _leftovers(tmp_path)


@pytest.mark.parametrize("seed", range(3))
def test_a_full_disk_while_caching_encodings_warns_and_the_next_run_caches(tmp_path, monkeypatch, seed):
    config = DataConfig(name="relay", root=str(tmp_path), options={"num_train": 30, "num_val": 5, "num_test": 5})
    first = GraphDataModule(config)
    first.set_precompute([RandomWalkLandingProbabilities(6)])
    monkeypatch.setattr(os, "fdopen", DiskFullAt(limit=random.Random(seed).randint(0, 4000)))
    with pytest.warns(UserWarning, match="no space left on the device.*continuing without caching"):
        graphs = first.split("train")
    monkeypatch.undo()
    assert all(graph.rwse.shape == (graph.num_nodes, 6) for graph in graphs)
    entries = tmp_path / "relay" / "encodings"
    assert not list(entries.glob("*.pt")) and not _leftovers(tmp_path)
    again = GraphDataModule(config)
    again.set_precompute([RandomWalkLandingProbabilities(6)])
    again.split("train")
    assert len(list(entries.glob("train-*.pt"))) == 1


def _record(seed: int, status: str) -> RunRecord:
    return RunRecord(run=f"version_{seed}", seed=seed, split=None, status=status, metric="accuracy", best_epoch=1,
                     val=0.5, test=0.25, wall_seconds=1.5, parameters=10, hardware="cpu")


@pytest.mark.parametrize("seed", range(4))
def test_a_full_disk_while_writing_the_ledger_keeps_the_previous_one(tmp_path, monkeypatch, seed):
    ledger = tmp_path / "summary.csv"
    before = [_record(0, "finished"), _record(1, "running")]
    write_records(ledger, before)
    after = [_record(0, "finished"), _record(1, "finished"), _record(2, "running")]
    monkeypatch.setattr(os, "fdopen", DiskFullAt(limit=random.Random(seed).randint(0, len(ledger.read_bytes()))))
    with pytest.raises(DiskFullError, match="summary.csv: no space left on the device.*previous summary.csv is intact"):
        write_records(ledger, after)
    monkeypatch.undo()
    assert read_records(ledger) == before and not _leftovers(tmp_path)
    write_records(ledger, after)
    assert read_records(ledger) == after


def test_no_room_for_the_temporary_file_or_a_spent_quota_are_named(tmp_path, monkeypatch):
    target = tmp_path / "last.ckpt"
    atomic_torch_save({"w": torch.zeros(3)}, target)

    def no_inode(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patched:
        patched.setattr(tempfile, "mkstemp", no_inode)
        with pytest.raises(DiskFullError, match="last.ckpt: no space left on the device"):
            atomic_torch_save({"w": torch.ones(3)}, target)
    monkeypatch.setattr(os, "fdopen", DiskFullAt(limit=10, code=errno.EDQUOT))
    with pytest.raises(DiskFullError, match=r"last.ckpt: your disk quota is used up \(writing it needs about"):
        atomic_torch_save({"w": torch.ones(3)}, target)
    monkeypatch.undo()
    assert torch.equal(torch.load(target, weights_only=True)["w"], torch.zeros(3)) and not _leftovers(tmp_path)
