"""Assemble data, model and Lightning trainer from a recipe; fit, test and report."""
from __future__ import annotations

import dataclasses
import re
import signal
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.strategies import DDPStrategy
from pytorch_lightning.utilities.exceptions import MisconfigurationException

from graphformers.data.datamodule import GraphDataModule
from graphformers.errors import GraphformersError, PartOptionError
from graphformers.recipe import Recipe, RecipeError, TrainConfig
from graphformers.training.checkpointing import (
    AtomicCheckpointIO,
    EpochSeeder,
    InterruptCheckpoint,
    check_resumable,
    load_trusted,
)
from graphformers.training.hardware import (
    check_compiler,
    check_precision,
    device_type,
    nondeterministic_operator,
    resolved_deterministic,
    skip_uninitialized_fill,
)
from graphformers.training.loggers import build_loggers
from graphformers.training.logging import EpochTimer
from graphformers.training.module import GraphTask, NonFiniteLossError
from graphformers.training.position import TrainingPosition
from graphformers.training.preemption import PATTERN as PREEMPTION_CHECKPOINTS
from graphformers.training.preemption import SlurmJobMarker, clear_preemption_checkpoints, preempted_run
from graphformers.training.preflight import check_before_training, check_trainer
from graphformers.training.quiet import quiet_libraries

BEST, LAST = "best.ckpt", "last.ckpt"


class ResumeError(GraphformersError, FileNotFoundError):
    """``--resume`` found nothing to resume."""


class DataLoaderWorkerError(GraphformersError, RuntimeError):
    """A data-loading worker process died (PyTorch detects it and raises; this says what to do)."""


class TrainingInterrupted(GraphformersError, KeyboardInterrupt):
    """Ctrl-C or SIGTERM during training; the message names the signal, the checkpoints kept and how to resume."""


@dataclass
class RunResult:
    """Where a run wrote its files and the test metric of its best checkpoint."""

    run_dir: Path
    best_checkpoint: Path
    last_checkpoint: Path
    metrics_csv: Path
    metric: str
    test_value: float
    val_value: float
    """the validation metric of the best checkpoint"""
    best_epoch: int
    """the epoch whose end the best checkpoint was saved at (0-based)"""
    parameters: int
    """trainable and frozen parameters of the model"""
    is_global_zero: bool = True
    """False in every process but the first of a multi-process run (the one that reports)"""


@quiet_libraries()
def run(recipe: Recipe, resume: str | None = None, callbacks: Sequence[pl.Callback] = (),
        run_dir: Path | None = None) -> RunResult:
    """Train ``recipe`` and test its best checkpoint.

    A fresh run writes to ``run_dir`` if given, else to ``<out_dir>/version_<n>`` (the next free
    ``n``; nothing is overwritten). ``resume="last"`` continues the newest version from its ``last.ckpt``;
    any other value is a checkpoint path whose run directory is reused. ``callbacks`` are
    extra Lightning callbacks (early stopping, custom logging, ...). Every check that needs the
    data, the model or the Trainer runs before anything is written (:mod:`~graphformers.training.preflight`).
    Ctrl-C or SIGTERM writes ``interrupted.ckpt`` and raises :class:`TrainingInterrupted` naming the
    signal and saying how to resume. The SIGINT handler found at the start is restored afterwards:
    where SIGINT was ignored (a background job, ``nohup``) it stays ignored, and such a run is
    stopped with SIGTERM.
    """
    device = device_type(recipe.train.accelerator)
    check_precision(recipe.train, device)
    if recipe.train.compile:
        check_compiler(device)
    out_dir = Path(recipe.train.out_dir or Path("runs") / recipe.name)
    checkpoint = _resume_checkpoint(out_dir, resume) if resume else None
    if checkpoint is None and run_dir is None:
        run_dir = preempted_run(out_dir)  # a requeued SLURM job continues the run it was preempted in
    saved = load_trusted(checkpoint, mmap=True) if checkpoint else None  # unreadable or untrusted: refused now
    run_dir = _run_dir_of(checkpoint) if checkpoint else run_dir or next_version(out_dir)

    pl.seed_everything(recipe.train.seed, workers=True, verbose=False)
    datamodule = GraphDataModule(recipe.data, seed=recipe.train.seed)
    try:
        task = GraphTask(recipe.to_dict(), dataclasses.asdict(datamodule.info))
        transforms = task.model.precompute_transforms()
        if recipe.train.compile:
            task.model.compile_for_training()
    except PartOptionError as error:  # a dataset whose task is known only once loaded: checked here
        raise RecipeError(f"model: {error}") from None
    if saved is not None:
        check_resumable(task.state_dict(), saved, recipe.to_dict(), checkpoint)
        saved = None  # unmapped: Lightning reads the checkpoint itself
    check_before_training(datamodule, task.model, transforms)
    datamodule.set_precompute(transforms)

    checkpoints = run_dir / "checkpoints"
    best = ModelCheckpoint(dirpath=checkpoints, filename=BEST.removesuffix(".ckpt"), monitor=task.monitor,
                           mode="max" if task.objective.higher_is_better else "min", enable_version_counter=False)
    # Lightning >= 2.5 refreshes save_last only when a top-k checkpoint is saved, which
    # leaves last.ckpt stale after epochs that did not improve; a second, unmonitored
    # checkpoint callback rewrites it every epoch.
    last = ModelCheckpoint(dirpath=checkpoints, filename=LAST.removesuffix(".ckpt"), enable_version_counter=False)
    train = recipe.train
    try:
        trainer = pl.Trainer(
            max_epochs=train.max_epochs, default_root_dir=run_dir,  # SLURM preemption checkpoints go there
            accelerator=train.accelerator, devices=train.devices, num_nodes=train.num_nodes,
            strategy=_strategy(train), precision=train.precision, sync_batchnorm=train.sync_batchnorm,
            use_distributed_sampler=False,  # GlobalBatchSampler splits batches across processes (exactly once)
            gradient_clip_val=train.gradient_clip, deterministic=resolved_deterministic(train, device),
            logger=build_loggers(train.loggers, run_dir, recipe.name),
            callbacks=[best, last, InterruptCheckpoint(checkpoints), EpochSeeder(train.seed),
                       TrainingPosition(train.seed), EpochTimer(), SlurmJobMarker(run_dir), *callbacks],
            plugins=[AtomicCheckpointIO()],
            enable_progress_bar=train.progress_bar, enable_model_summary=train.progress_bar,
            num_sanity_val_steps=0, log_every_n_steps=1,
            limit_train_batches=train.limit_batches, limit_val_batches=train.limit_batches,
            limit_test_batches=train.limit_batches,
        )
    except (ValueError, MisconfigurationException) as error:  # Lightning checks the hardware settings
        settings = ", ".join(f"train.{key}={getattr(train, key)!r}"
                             for key in ("accelerator", "devices", "num_nodes", "strategy", "precision"))
        raise RecipeError(f"Lightning cannot run these settings ({settings}): {error}") from None
    skip_uninitialized_fill()
    check_trainer(recipe, trainer)
    sigint = signal.getsignal(signal.SIGINT)
    try:
        with warnings.catch_warnings():
            if checkpoint is None and not any(checkpoints.glob("*.ckpt")):  # a fresh run: nothing to resume
                # with an on-exception checkpoint among the callbacks (InterruptCheckpoint) Lightning reads
                # ckpt_path=None as "last", finds none in the new run folder and warns that none is loaded
                warnings.filterwarnings("ignore", message=r"`\.fit\(ckpt_path=None\)` was called without a model")
                warnings.filterwarnings("ignore", message=r'\.fit\(ckpt_path="last"\) is set, but there is no last')
            trainer.fit(task, datamodule=datamodule, ckpt_path=str(checkpoint) if checkpoint else None)
        (tested,) = trainer.test(task, datamodule=datamodule, ckpt_path=best.best_model_path, verbose=False)
    except SystemExit:  # Lightning's (>= 2.4) answer to Ctrl-C and SIGTERM: it saved interrupted.ckpt, then exits
        if not trainer.interrupted:
            raise
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, sigint)  # Lightning ignores further Ctrl-C while it shuts down; as found
        raise TrainingInterrupted(_interrupted_message(trainer, checkpoints)) from None
    except NonFiniteLossError as error:
        kept = checkpoints / LAST
        where = f"The last good checkpoint is {kept}; resume from it with --resume." if kept.is_file() else \
            "No epoch had finished, so there is no checkpoint yet."
        raise NonFiniteLossError(f"{error} {where}") from None
    except RuntimeError as error:
        if (nondeterministic := nondeterministic_operator(error)) is not None:
            raise nondeterministic from None
        if "DataLoader worker" not in str(error):
            raise
        raise DataLoaderWorkerError(
            f"{str(error).strip().rstrip('.')}. A data-loading worker process died (often killed by the OS for "
            f"memory): lower "
            f"data.num_workers or data.batch_size, or set data.num_workers: 0 to load in the training process; "
            f"--resume continues from the last checkpoint.") from None
    clear_preemption_checkpoints(run_dir)
    best_epoch, best_score = _best_epoch_and_score(Path(best.best_model_path), task.monitor)
    return RunResult(run_dir, checkpoints / BEST, checkpoints / LAST, run_dir / "metrics.csv", task.info.metric,
                     tested[f"test/{task.info.metric}"], best_score, best_epoch,
                     sum(p.numel() for p in task.model.parameters()), trainer.is_global_zero)


def _best_epoch_and_score(path: Path, monitor: str) -> tuple[int, float]:
    """The epoch and validation score saved in the best checkpoint (read from the file: with
    ``ddp_spawn`` the callback in this process never saw the score)."""
    saved = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    (score,) = [state["best_model_score"] for state in saved["callbacks"].values()
                if isinstance(state, dict) and state.get("monitor") == monitor]
    return int(saved["epoch"]), float(score)


def _interrupted_message(trainer: pl.Trainer, checkpoints: Path) -> str:
    """What stopped the run (Ctrl-C or SIGTERM), what it kept and the two ways to resume it."""
    cause = ("by SIGTERM (a scheduler's stop or preemption, or kill)" if trainer.received_sigterm
             else "by Ctrl-C (SIGINT)")
    epoch = trainer.current_epoch
    moment = checkpoints / f"{InterruptCheckpoint.FILENAME}.ckpt"
    last = checkpoints / LAST
    kept = (f"{last} (end of epoch {epoch - 1}): rerun the same command with --resume to continue from it; epoch "
            f"{epoch} is then repeated from its start, with the same batches and dropout, so the run ends exactly as "
            f"an uninterrupted one" if last.is_file() else
            "no finished epoch (rerun the command to start again)")
    at_moment = (f"; and {moment} (the weights of that moment, for inspection; resuming from it with --resume {moment} "
                 f"continues the epoch's remaining step count from its first batches again, so it is not exact)"
                 if moment.is_file() else "")
    return f"interrupted {cause} in epoch {epoch}, at training step {trainer.global_step}. Kept: {kept}{at_moment}."


def _strategy(train: TrainConfig) -> str | pl.strategies.Strategy:
    """``train.strategy`` for Lightning. DDP (``ddp``, ``ddp_spawn``, and ``auto`` with more than one
    process) runs with ``static_graph=True``: some models leave parameters without gradients in
    every step (the last GatedGCN layer's edge update feeds nothing), which plain DDP refuses;
    a static graph finds them once, where ``find_unused_parameters`` would search every step."""
    many = train.devices == "auto" or train.devices * train.num_nodes > 1
    if train.strategy in ("ddp", "ddp_spawn") or (train.strategy == "auto" and many):
        return DDPStrategy(start_method="spawn" if train.strategy == "ddp_spawn" else "popen", static_graph=True)
    return train.strategy


def next_version(out_dir: Path) -> Path:
    """``out_dir/version_<n>`` with the next free ``n``."""
    taken = [int(m.group(1)) for p in out_dir.glob("version_*") if (m := re.fullmatch(r"version_(\d+)", p.name))]
    return out_dir / f"version_{max(taken, default=-1) + 1}"


def _run_dir_of(checkpoint: Path) -> Path:
    """The run folder a checkpoint belongs to: ``version_<n>/checkpoints/*.ckpt``, or
    ``version_<n>/hpc_ckpt_<k>.ckpt`` (a SLURM preemption checkpoint)."""
    return checkpoint.parent if checkpoint.match(PREEMPTION_CHECKPOINTS) else checkpoint.parent.parent


def _resume_checkpoint(out_dir: Path, resume: str) -> Path:
    if resume != "last":
        path = Path(resume)
        if not path.is_file():
            raise ResumeError(f"--resume {resume}: no such checkpoint file ({path.resolve()}).")
        return path
    candidates = sorted(out_dir.glob(f"version_*/checkpoints/{LAST}"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise ResumeError(
            f"--resume: no {LAST} under {out_dir.resolve()}/version_*/checkpoints/. "
            f"Start without --resume, or pass --resume PATH/TO/checkpoint.ckpt."
        )
    return candidates[-1]
