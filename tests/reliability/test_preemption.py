"""SLURM preemption: Lightning's requeue handling saves a checkpoint in the run's own folder, and the
requeued job (the same command again) continues that run instead of starting a new one."""
from __future__ import annotations

import os
import signal

import pytest
import pytorch_lightning as pl
import torch
from helpers.paths import QUICKSTART
from helpers.runs import small_quickstart

from graphformers.recipe import load_recipe
from graphformers.training.runner import TrainingInterrupted, run

SMALL = small_quickstart(160, 32, 32, "train.max_epochs=3")
SLURM_JOB = {"SLURM_NTASKS": "1", "SLURM_JOB_NAME": "gps", "SLURM_JOB_ID": "4242", "SLURM_PROCID": "0",
             "SLURM_LOCALID": "0", "SLURM_NODEID": "0", "SLURM_NODELIST": "localhost"}


class Preempted(pl.Callback):
    """What SLURM does to a preempted job: the requeue signal (SIGUSR1) in epoch 1, then SIGTERM."""

    def on_train_batch_end(self, trainer: pl.Trainer, module, outputs, batch, batch_idx: int) -> None:
        if trainer.current_epoch == 1 and batch_idx == 1:
            os.kill(os.getpid(), signal.SIGUSR1)
        if trainer.current_epoch == 1 and batch_idx == 2:
            os.kill(os.getpid(), signal.SIGTERM)


class Epochs(pl.Callback):
    """The epochs a run trains."""

    def __init__(self) -> None:
        self.started: list[int] = []

    def on_train_epoch_start(self, trainer: pl.Trainer, module) -> None:
        self.started.append(trainer.current_epoch)


def test_a_requeued_slurm_job_continues_its_run_from_the_preemption_checkpoint(tmp_path, monkeypatch):
    for name, value in SLURM_JOB.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PATH", str(tmp_path))  # no scontrol here: Lightning logs that the requeue failed
    recipe = load_recipe(QUICKSTART, [*SMALL, f"train.out_dir={tmp_path / 'runs'}"])
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGUSR1, signal.SIGTERM)}
    with pytest.raises(TrainingInterrupted, match="interrupted by SIGTERM"):
        run(recipe, callbacks=[Preempted()])
    run_dir = tmp_path / "runs" / "version_0"
    (saved,) = run_dir.glob("hpc_ckpt_*.ckpt")
    assert torch.load(saved, weights_only=True)["epoch"] == 1
    assert {signum: signal.getsignal(signum) for signum in handlers} == handlers

    monkeypatch.setenv("SLURM_JOB_ID", "4343")  # another job (a new submission) starts a run of its own
    assert run(recipe).run_dir == tmp_path / "runs" / "version_1"
    assert list(run_dir.glob("hpc_ckpt_*.ckpt")) == [saved]

    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    epochs = Epochs()
    requeued = run(recipe, callbacks=[epochs])  # the job starts again with the same command
    assert epochs.started == [2]  # epoch 1 went on from where it was preempted (not begun again), then epoch 2
    assert requeued.run_dir == run_dir and not (tmp_path / "runs" / "version_2").exists()
    finished = torch.load(requeued.last_checkpoint, weights_only=True)
    assert finished["epoch"] == 2 and finished["global_step"] == 3 * 5  # 3 epochs of 5 batches, no step twice
    assert not list(run_dir.glob("hpc_ckpt_*.ckpt"))  # finished: the next job starts a new run
    monkeypatch.delenv("SLURM_NTASKS")
    assert run(recipe).run_dir == tmp_path / "runs" / "version_2"
