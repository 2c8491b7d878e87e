"""Atomic checkpoint files, per-epoch seeding (so an interrupted run resumes exactly) and the Ctrl-C checkpoint."""
from __future__ import annotations

import pickle
import random
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import OnExceptionCheckpoint
from pytorch_lightning.plugins.io import TorchCheckpointIO

from graphformers.errors import GraphformersError
from graphformers.io import atomic_torch_save


class UntrustedCheckpointError(GraphformersError, ValueError):
    """A checkpoint holding more than tensors and plain data (pickled objects or code)."""


class AtomicCheckpointIO(TorchCheckpointIO):
    """Saves each checkpoint with :func:`atomic_torch_save` (a kill mid-save keeps the previous
    file intact); loads with ``weights_only=True``, refusing pickled objects or code."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Optional[Any] = None) -> None:
        atomic_torch_save(checkpoint, path)

    def load_checkpoint(self, path: Any, map_location: Optional[Callable] = lambda storage, loc: storage,
                        weights_only: Optional[bool] = None) -> dict[str, Any]:
        try:
            return torch.load(path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            first_line = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
            raise UntrustedCheckpointError(
                f"{path}: refused: the checkpoint holds pickled objects beyond tensors and plain data, which could "
                f"run code when loaded (a tampered file, or one not written by graphformers). Nothing was "
                f"executed. Use a checkpoint written by a graphformers run. (torch: {first_line})") from None


class EpochSeeder(pl.Callback):
    """Reseeds torch, numpy and ``random`` from ``(seed, epoch, rank)`` at the start of every epoch.

    Dropout and sign flips of epoch ``e`` then depend only on the seed, ``e`` and the process
    rank (ranks draw differently), so a run resumed from the end of epoch ``e - 1`` replays
    epoch ``e`` exactly.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch_seed = hash((self.seed, trainer.current_epoch, trainer.global_rank)) % 2**32
        random.seed(epoch_seed)
        np.random.seed(epoch_seed)
        torch.manual_seed(epoch_seed)


class InterruptCheckpoint(OnExceptionCheckpoint):
    """Lightning's ``OnExceptionCheckpoint``, for Ctrl-C only: on a ``KeyboardInterrupt`` it saves
    the state of that moment (mid-epoch) as ``interrupted.ckpt``; other exceptions (a NaN loss, a
    dead worker) already leave ``last.ckpt`` as their recovery point and save nothing more.

    Args:
        dirpath (str or Path): the run's checkpoint folder.
    """

    FILENAME = "interrupted"

    def __init__(self, dirpath: Union[str, Path]) -> None:
        super().__init__(dirpath, filename=self.FILENAME)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if isinstance(exception, KeyboardInterrupt):
            super().on_exception(trainer, pl_module, exception)
