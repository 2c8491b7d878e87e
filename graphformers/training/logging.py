"""What a run logs beyond its metrics: a CSV logger whose ``metrics.csv`` survives resumption, and epoch times."""
from __future__ import annotations

import csv
import time

import pytorch_lightning as pl
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter
from pytorch_lightning.loggers.logger import rank_zero_experiment


class _AppendingExperimentWriter(ExperimentWriter):
    """Lightning's writer deletes an existing ``metrics.csv``; this one keeps it and appends."""

    def _check_log_dir_exists(self) -> None:
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as file:
                self.metrics_keys = next(csv.reader(file), [])


class ResumableCSVLogger(CSVLogger):
    """Lightning's ``CSVLogger``, except that a resumed run appends to its ``metrics.csv``."""

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingExperimentWriter(log_dir=self.log_dir)
        return self._experiment


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
