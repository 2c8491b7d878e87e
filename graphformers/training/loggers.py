"""The run's experiment loggers (``train.loggers``), through Lightning's: the CSV file every run
writes, plus TensorBoard, Weights & Biases or MLflow, each an optional extra."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pytorch_lightning.loggers import Logger

from graphformers.training.logging import ResumableCSVLogger


def build_loggers(names: Sequence[str], run_dir: Path, experiment: str) -> list[Logger]:
    """The CSV logger (always: results and resumption read ``metrics.csv``) and the others ``names`` lists.

    TensorBoard writes to ``<run>/tensorboard``; W&B runs in project ``experiment`` with the run
    folder's name (``WANDB_MODE=offline`` keeps it local); MLflow logs to ``$MLFLOW_TRACKING_URI``,
    else to ``mlruns/`` beside the run folders, in experiment ``experiment``.

    Args:
        names (sequence of str): ``train.loggers``.
        run_dir (Path): the run folder (``.../version_N``).
        experiment (str): the recipe's name.
    """
    loggers: list[Logger] = [ResumableCSVLogger(save_dir=str(run_dir.parent), name="", version=run_dir.name)]
    if "tensorboard" in names:
        from pytorch_lightning.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(save_dir=str(run_dir), name="tensorboard", version=""))
    if "wandb" in names:
        from pytorch_lightning.loggers import WandbLogger

        loggers.append(WandbLogger(project=experiment, name=run_dir.name, save_dir=str(run_dir)))
    if "mlflow" in names:
        from pytorch_lightning.loggers import MLFlowLogger

        uri = os.environ.get("MLFLOW_TRACKING_URI") or (run_dir.parent / "mlruns").resolve().as_uri()
        loggers.append(MLFlowLogger(experiment_name=experiment, run_name=run_dir.name, tracking_uri=uri))
    return loggers
