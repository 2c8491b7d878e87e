"""What a run logs beyond its metrics: a CSV logger whose ``metrics.csv`` survives resumption, and epoch times."""
from __future__ import annotations

import csv
import os
import time
from argparse import Namespace
from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
import torch
import yaml
from pytorch_lightning.loggers import Logger
from pytorch_lightning.utilities import rank_zero_only

METRICS_FILE = "metrics.csv"
HPARAMS_FILE = "hparams.yaml"


class ResumableCSVLogger(Logger):
    """Writes a run's metrics to ``<save_dir>/<name>/<version>/metrics.csv`` and its hyperparameters to
    ``hparams.yaml`` beside it, as Lightning's ``CSVLogger`` does, except that a resumed run (same
    directory) keeps the rows already there and appends its own (``CSVLogger`` deletes them).

    Built on Lightning's public :class:`~pytorch_lightning.loggers.Logger` only, so it does not break
    when Lightning's private writer changes. The columns are the sorted union of every logged key and
    ``step`` (as in ``CSVLogger``, whose header thereby starts with ``epoch``); a new key rewrites the
    file under the widened header, otherwise rows are appended. Only the rank-zero process writes.

    Args:
        save_dir: Directory that holds the run directories.
        name: Experiment subdirectory between ``save_dir`` and the run directory; ``""`` for none.
        version: Name of the run directory, e.g. ``"version_0"``.
    """

    def __init__(self, save_dir: str, name: str, version: str) -> None:
        super().__init__()
        self._save_dir, self._name, self._version = os.fspath(save_dir), name, version
        self.pending: list[dict[str, Any]] = []  # rows logged but not yet written
        self.keys: list[str] | None = None  # header of the file; read from it on the first save
        self.hparams: dict[str, Any] = {}

    @property
    def name(self) -> str:
        """Experiment subdirectory (``""``: none)."""
        return self._name

    @property
    def version(self) -> str:
        """Name of the run directory."""
        return self._version

    @property
    def save_dir(self) -> str:
        """Directory that holds the run directories."""
        return self._save_dir

    @property
    def root_dir(self) -> str:
        """``save_dir/name``, the parent of the run directory."""
        return os.path.join(self.save_dir, self.name) if self.name else self.save_dir

    @property
    def log_dir(self) -> str:
        """The run directory, where ``metrics.csv`` and ``hparams.yaml`` are written."""
        return os.path.join(self.root_dir, self.version)

    @property
    def metrics_file(self) -> str:
        """Path of the run's ``metrics.csv``."""
        return os.path.join(self.log_dir, METRICS_FILE)

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace | None = None, *args: Any,
                        **kwargs: Any) -> None:
        """Writes ``hparams.yaml`` with every hyperparameter logged so far.

        Args:
            params: Plain-data hyperparameters (nested dicts, lists, numbers, strings).
        """
        if params is None:
            return
        self.hparams.update(_plain(vars(params) if isinstance(params, Namespace) else params))
        os.makedirs(self.log_dir, exist_ok=True)
        with open(os.path.join(self.log_dir, HPARAMS_FILE), "w") as file:
            yaml.safe_dump(self.hparams, file, sort_keys=False)

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        """Records one row; :meth:`save` writes it (Lightning calls it after each call here).

        Args:
            metrics: Metric name to value (a number or a one-element tensor).
            step: Global step of the row; defaults to the number of rows not yet written.
        """
        row = {key: value.item() if isinstance(value, torch.Tensor) else value for key, value in metrics.items()}
        row["step"] = len(self.pending) if step is None else step
        self.pending.append(row)

    @rank_zero_only
    def save(self) -> None:
        """Writes the recorded rows to ``metrics.csv``: appended, or the whole file rewritten when a
        new key widens the header (atomically, so a run killed meanwhile keeps its earlier rows)."""
        if not self.pending:
            return
        exists = os.path.isfile(self.metrics_file)
        if self.keys is None:  # first write of this logger: a resumed run continues the file's header
            self.keys = []
            if exists:
                with open(self.metrics_file, newline="") as file:
                    self.keys = next(csv.reader(file), [])
        new = set().union(*self.pending) - set(self.keys)
        if new:
            self.keys = sorted([*self.keys, *new])
        if new and exists:
            with open(self.metrics_file, newline="") as file:
                rows = list(csv.DictReader(file))
            _write(self.metrics_file + ".tmp", self.keys, rows + self.pending, header=True)
            os.replace(self.metrics_file + ".tmp", self.metrics_file)
        else:
            os.makedirs(self.log_dir, exist_ok=True)
            _write(self.metrics_file, self.keys, self.pending, header=not exists)
        self.pending = []

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """Writes the rows still recorded when training or testing ends.

        Args:
            status: ``"success"``, ``"failed"`` or ``"finished"``, as Lightning passes it.
        """
        self.save()


def _write(path: str, keys: list[str], rows: list[dict[str, Any]], header: bool) -> None:
    """Writes ``rows`` under ``keys``: a new file with its header, or (``header=False``) appended."""
    with open(path, "w" if header else "a", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=keys)
        if header:
            writer.writeheader()
        writer.writerows(rows)


def _plain(value: Any) -> Any:
    """``value`` with mappings (Lightning's ``AttributeDict`` too) as dicts, tuples as lists: ``yaml.safe_dump``
    represents only the plain types."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


class EpochTimer(pl.Callback):
    """Logs ``train/epoch_seconds``: wall time of each epoch's training batches, data loading
    included and validation excluded (the slowest process's time in a multi-process run), so
    throughput compares across runs: graphs per epoch / epoch_seconds."""

    def __init__(self) -> None:
        self.started = self.stopped = 0.0

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.started, self.stopped = time.perf_counter(), 0.0

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.stopped:  # validation runs inside the training epoch; stop the clock where it begins
            self.stopped = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        seconds = (self.stopped or time.perf_counter()) - self.started
        pl_module.log("train/epoch_seconds", seconds, on_epoch=True, sync_dist=True, reduce_fx="max")
