"""Where training is within an epoch, kept in every checkpoint, so that a run resumed from a mid-epoch
checkpoint (``interrupted.ckpt`` after Ctrl-C or SIGTERM, SLURM's ``hpc_ckpt_<n>.ckpt``) goes on
exactly as the uninterrupted run: with the epoch's remaining batches, not its first ones again, and
with the random state that the next batch's dropout would have drawn from."""
from __future__ import annotations

import random
import warnings
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities.warnings import PossibleUserWarning

MID_EPOCH_WARNING = r"You're resuming from a checkpoint that ended before the epoch ended"
"""Lightning's warning on resuming mid-epoch (from a loader it cannot restore): untrue where a position was
saved, still true for a mid-epoch checkpoint without one (written before this callback existed)."""


class TrainingPosition(pl.Callback):
    """Records the epoch, the batches of it done and the random state before the next batch (at the
    start and end of every training batch; after an epoch's last batch: the next epoch, none done),
    and hands them to a resumed run.

    On resuming, Lightning restores its step and batch counters but starts the loader again from
    the epoch's first batch (and skips the epoch-start reseeding). So the data module is told the
    epoch and how many of its batches were done (:meth:`GraphDataModule.resume_at`, before it builds
    the training loader), and the random state of that moment is set before the first batch. In a
    multi-process run only the first process's random state is saved: there each process reseeds from
    ``(seed, epoch, rank, batches done)`` instead, so the ranks draw differently and reproducibly, but
    not as the uninterrupted run drew.

    Args:
        seed (int): the run's seed (``train.seed``).
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.position: dict[str, Any] = {}
        self._resumed: dict[str, Any] = {}

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        if self._resumed:
            if trainer.world_size == 1:
                _set_random_state(self._resumed["random"])
            else:
                reseed(hash((self.seed, trainer.current_epoch, trainer.global_rank, batch_idx)) % 2**32)
            self._resumed = {}
        # torch's generators are what a step draws from (dropout); kept before every batch, for a checkpoint
        # saved mid-step (Ctrl-C). numpy's and random's, which no step draws from, are read when one is saved.
        self.position = {"epoch": trainer.current_epoch, "batches": batch_idx, "torch": _torch_state()}

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        epoch, done = trainer.current_epoch, batch_idx + 1
        if done >= trainer.num_training_batches:  # the epoch's last batch: next comes the next epoch
            epoch, done = epoch + 1, 0
        self.position = {"epoch": epoch, "batches": done, "torch": None}  # None: as it is when saved

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        resumed = self._resumed
        if not resumed or resumed["epoch"] != trainer.current_epoch or resumed["batches"] == 0:
            self._resumed = {}  # a fresh run, or one resumed from an epoch's end: the epoch seeds itself

    def state_dict(self) -> dict[str, Any]:
        if not self.position:
            return {}
        torch_state = self.position["torch"] if self.position["torch"] is not None else _torch_state()
        return {"epoch": self.position["epoch"], "batches": self.position["batches"],
                "random": {**torch_state, **_other_states()}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._resumed = dict(state_dict)

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("callbacks", {}).get(self.state_key, {})
        resume_at = getattr(trainer.datamodule, "resume_at", None)
        if state and resume_at is not None:
            resume_at(state["epoch"], state["batches"])
            # Lightning then warns that resuming mid-epoch from a loader without state is unreliable; this one
            # goes on exactly. The filter lasts until run() ends (the catch_warnings of quiet_libraries).
            warnings.filterwarnings("ignore", message=MID_EPOCH_WARNING, category=PossibleUserWarning)


def reseed(seed: int) -> None:
    """Seed torch, numpy and ``random`` alike.

    Args:
        seed (int): a seed in ``[0, 2**32)``.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _torch_state() -> dict[str, Any]:
    """torch's random state: the CPU generator's and the current CUDA device's (a few microseconds)."""
    return {"torch": torch.get_rng_state(),
            "cuda": [torch.cuda.get_rng_state()] if torch.cuda.is_initialized() else []}


def _other_states() -> dict[str, Any]:
    """numpy's and ``random``'s state as tensors and plain data (a checkpoint loads with
    ``weights_only=True``; reading numpy's takes ~70 microseconds, so only when a checkpoint is saved)."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    return {"numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(gauss)],
            "random": random.getstate()}


def _set_random_state(state: dict[str, Any]) -> None:
    """Set what :meth:`TrainingPosition.state_dict` recorded."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():  # a CPU run's checkpoint resumed on a GPU: seeded as it is
        torch.cuda.set_rng_state(state["cuda"][0])
    kind, keys, position, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, gauss))
    version, internal, gauss_next = state["random"]
    random.setstate((version, tuple(internal), gauss_next))
