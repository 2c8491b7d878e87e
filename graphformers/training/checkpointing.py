"""Atomic checkpoint files, per-epoch seeding (so an interrupted run resumes exactly) and the Ctrl-C checkpoint."""
from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import OnExceptionCheckpoint
from pytorch_lightning.plugins.io import TorchCheckpointIO
from pytorch_lightning.utilities.exceptions import SIGTERMException
from torch import Tensor

from graphformers.errors import GraphformersError, first_line
from graphformers.io import atomic_torch_save
from graphformers.recipe.changes import changed_settings
from graphformers.training.position import reseed


class UntrustedCheckpointError(GraphformersError, ValueError):
    """A checkpoint holding more than tensors and plain data (pickled objects or code)."""


class UnreadableCheckpointError(GraphformersError, ValueError):
    """A checkpoint file that cannot be read at all (truncated, damaged, not a checkpoint, not permitted)."""


class AtomicCheckpointIO(TorchCheckpointIO):
    """Saves each checkpoint with :func:`atomic_torch_save` (a kill mid-save keeps the previous
    file intact); loads with ``weights_only=True``, refusing pickled objects or code."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        atomic_torch_save(checkpoint, path)

    def load_checkpoint(self, path: Any, map_location: Callable | None = lambda storage, loc: storage,
                        weights_only: bool | None = None) -> dict[str, Any]:
        return load_trusted(path, map_location)


def load_trusted(path: str | Path, map_location: str | Callable | None = "cpu",
                 mmap: bool = False) -> dict[str, Any]:
    """A checkpoint loaded with ``weights_only=True``: pickled objects or code are refused, and a
    truncated or damaged file is an error naming the run's other checkpoints.

    Args:
        path (str or Path): the ``.ckpt`` file.
        map_location (str or callable, optional): where tensors are placed (``torch.load``'s argument).
        mmap (bool): map the file instead of reading it (cheap: for a look at its recipe and shapes);
            a file that cannot be mapped (an old serialization format, a filesystem without mmap) is read.

    Raises:
        UnreadableCheckpointError: the file is not a readable checkpoint, or may not be read.
        UntrustedCheckpointError: it holds more than tensors and plain data.
    """
    try:
        try:
            return _upgraded(torch.load(path, map_location=map_location, weights_only=True, mmap=mmap))
        except RuntimeError:
            if not mmap:
                raise
            return _upgraded(torch.load(path, map_location=map_location, weights_only=True))
    except pickle.UnpicklingError as error:
        last_line = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise UntrustedCheckpointError(
            f"{path}: refused: the checkpoint holds pickled objects beyond tensors and plain data, which could "
            f"run code when loaded (a tampered file, or one not written by graphformers). Nothing was "
            f"executed. Use a checkpoint written by a graphformers run. (torch: {last_line})") from None
    except PermissionError:
        raise UnreadableCheckpointError(f"{path}: no permission to read this checkpoint; give read access "
                                        f"(chmod u+r) or copy it somewhere readable.") from None
    except (RuntimeError, OSError, EOFError, ValueError) as error:  # not a zip archive, truncated, damaged
        reason = first_line(error)
        raise UnreadableCheckpointError(f"{path}: not a readable checkpoint: the file is truncated or damaged "
                                        f"(torch: {reason}). {_other_checkpoints(Path(path))}") from None


def _other_checkpoints(path: Path) -> str:
    """The run's other checkpoints beside ``path`` (newest first, preemption checkpoints included)."""
    folders = {path.parent, path.parent.parent} if path.parent.name == "checkpoints" else {path.parent}
    others = sorted((other for folder in folders for other in folder.glob("*.ckpt")
                     if other.resolve() != path.resolve() and other.is_file()),
                    key=lambda other: other.stat().st_mtime, reverse=True)
    if not others:
        return "No other checkpoint of its run is beside it: train again, without --resume."
    return f"Other checkpoints of this run: {', '.join(str(other) for other in others)}; use one of them instead."


class EpochSeeder(pl.Callback):
    """Reseeds torch, numpy and ``random`` from ``(seed, epoch, rank)`` at the start of every epoch.

    Dropout and sign flips of epoch ``e`` then depend only on the seed, ``e`` and the process
    rank (ranks draw differently), so a run resumed from the end of epoch ``e - 1`` replays
    epoch ``e`` exactly.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        reseed(hash((self.seed, trainer.current_epoch, trainer.global_rank)) % 2**32)


class InterruptCheckpoint(OnExceptionCheckpoint):
    """Lightning's ``OnExceptionCheckpoint``, for stops only: on Ctrl-C (``KeyboardInterrupt``) or
    SIGTERM (a scheduler's stop, ``kill``) it saves the state of that moment (mid-epoch) as ``interrupted.ckpt``; other
    exceptions (a NaN loss, a
    dead worker) already leave ``last.ckpt`` as their recovery point and save nothing more.

    Args:
        dirpath (str or Path): the run's checkpoint folder.
    """

    FILENAME = "interrupted"

    def __init__(self, dirpath: str | Path) -> None:
        super().__init__(dirpath, filename=self.FILENAME)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if isinstance(exception, (KeyboardInterrupt, SIGTERMException)):
            # the whole state, as the parent saves it; said, so Lightning logs no "weights_only was not set"
            trainer.save_checkpoint(self.ckpt_path, weights_only=False)


def _upgraded(checkpoint: Any) -> Any:
    """A checkpoint of an earlier graphformers in today's terms: its recipe says ``local: gine``, and
    its GINE blocks hold a per-layer edge map (``conv.lin``), which every GINE had before
    ``edge_linear`` (default off) existed, so its recipe gets ``edge_linear: true``."""
    if not isinstance(checkpoint, dict):
        return checkpoint
    local = checkpoint.get("hyper_parameters", {}).get("recipe", {}).get("model", {}).get("local")
    if (isinstance(local, dict) and local.get("name") == "gine" and "edge_linear" not in local
            and any(key.endswith("conv.lin.weight") for key in checkpoint.get("state_dict", {}))):
        local["edge_linear"] = True
    return checkpoint


class ResumeMismatchError(GraphformersError, ValueError):
    """``--resume`` with a recipe whose model differs in shape from the checkpoint's."""


def check_resumable(model_state: Mapping[str, Tensor], saved: Mapping[str, Any], recipe: Mapping[str, Any],
                    path: Path) -> None:
    """Refuse to resume ``saved`` (a checkpoint, :func:`load_trusted`) into a model whose parameters
    differ from it in name or shape, naming the tensors and the recipe settings that differ.

    Args:
        model_state (mapping): the state dict of the task the recipe builds now.
        saved (mapping): the checkpoint (its ``state_dict`` and ``hyper_parameters``).
        recipe (mapping): the recipe now, as plain data (:meth:`Recipe.to_dict`).
        path (Path): the checkpoint's file, for the message.

    Raises:
        ResumeMismatchError: a parameter or buffer differs in name or shape.
    """
    stored = saved.get("state_dict", {})
    differ = [f"{key} ({list(stored[key].shape)} in the checkpoint, {list(value.shape)} now)"
              for key, value in model_state.items() if key in stored and stored[key].shape != value.shape]
    differ += [f"{key} (only now)" for key in model_state if key not in stored]
    differ += [f"{key} (only in the checkpoint)" for key in stored if key not in model_state]
    if not differ:
        return
    then = saved.get("hyper_parameters", {}).get("recipe", {})
    changes = [f"{key} {old!r} -> {new!r}" for key, new, old in changed_settings(dict(recipe), then)
               if not key.startswith("train.")]
    listed = "; ".join(differ[:4]) + (f"; and {len(differ) - 4} more" if len(differ) > 4 else "")
    because = (f"The recipe differs from the checkpoint's in {', '.join(changes)}: resume without those overrides "
               f"(or set them as the checkpoint has them)"
               if changes else "Resume with the recipe the checkpoint was trained with")
    raise ResumeMismatchError(
        f"--resume {path}: the model this recipe builds does not match the checkpoint's ({len(differ)} tensors "
        f"differ: {listed}). {because}, or start a fresh run without --resume.")
