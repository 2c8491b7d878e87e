"""Where training is within an epoch, kept in every checkpoint, so that a run resumed from a mid-epoch
checkpoint (``interrupted.ckpt`` after Ctrl-C or SIGTERM, SLURM's ``hpc_ckpt_<n>.ckpt``) goes on
exactly as the uninterrupted run: with the epoch's remaining batches, not its first ones again, and
with the random state that the next batch's dropout would have drawn from."""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch


class TrainingPosition(pl.Callback):
    """Records the epoch, the batches of it done and the random state before the next batch (at the
    start and end of every training batch), and hands them to a resumed run.

    On resuming, Lightning restores its step and batch counters but starts the loader again from
    the epoch's first batch (and skips the epoch-start reseeding). So the data module is told how many
    of the epoch's batches were done (:meth:`GraphDataModule.resume_within_epoch`, before it builds the
    training loader), and the random state of that moment is set before the first batch. A multi-process
    run skips the done batches too, but each process's random state is its own and only the first
    process's is saved, so dropout differs from the uninterrupted run after such a resume.
    """

    def __init__(self) -> None:
        self.position: dict[str, Any] = {}
        self._resumed: dict[str, Any] = {}

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        if self._resumed:
            if trainer.world_size == 1:
                _set_random_state(self._resumed["random"])
            self._resumed = {}
        self.position = {"epoch": trainer.current_epoch, "batches": batch_idx, "random": _random_state()}

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        self.position = {"epoch": trainer.current_epoch, "batches": batch_idx + 1, "random": _random_state()}

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        resumed = self._resumed
        if not resumed or resumed["epoch"] != trainer.current_epoch or resumed["batches"] == 0:
            self._resumed = {}  # a fresh run, or one resumed from an epoch's end: nothing to restore

    def state_dict(self) -> dict[str, Any]:
        return dict(self.position)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._resumed = dict(state_dict)

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("callbacks", {}).get(self.state_key, {})
        resume_within_epoch = getattr(trainer.datamodule, "resume_within_epoch", None)
        if state and resume_within_epoch is not None:
            resume_within_epoch(state["epoch"], state["batches"])


def _random_state() -> dict[str, Any]:
    """torch's (CPU and every CUDA device's), numpy's and ``random``'s state, as tensors and plain
    data (a checkpoint loads with ``weights_only=True``)."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
            "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(gauss)],
            "random": random.getstate()}


def _set_random_state(state: dict[str, Any]) -> None:
    """Set what :func:`_random_state` recorded."""
    torch.set_rng_state(state["torch"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, position, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, gauss))
    version, internal, gauss_next = state["random"]
    random.setstate((version, tuple(internal), gauss_next))
