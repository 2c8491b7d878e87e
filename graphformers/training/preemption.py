"""SLURM preemption: Lightning's own requeue handling, pointed at the run it interrupted.

On a SLURM cluster (``SLURM_NTASKS`` set, job name not ``bash`` / ``interactive``) Lightning
catches the requeue signal (SIGUSR1; ask for it with ``#SBATCH --signal=USR1@90``), saves
``hpc_ckpt_<n>.ckpt`` in the Trainer's root folder and requeues the job with ``scontrol requeue``.
When the requeued job starts the same command again, Lightning resumes from the newest such
checkpoint it finds in that folder. The runner makes that folder the run's own
``version_<n>`` folder and writes the job's id there (:class:`SlurmJobMarker`); a job started again
with the same id (a requeued job keeps it) continues the run holding its preemption checkpoint
(:func:`preempted_run`); any other job (a new submission, another task of an array) starts a new
run. The preemption checkpoints are deleted once the run has finished (:func:`clear_preemption_checkpoints`).
Multi-runs and sweeps name their runs' folders themselves and are continued with ``--resume``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytorch_lightning as pl
from lightning_fabric.plugins.environments import SLURMEnvironment

from graphformers.io import atomic_write_text

PATTERN = "hpc_ckpt_*.ckpt"
"""The files Lightning writes when SLURM asks a job to requeue."""
JOB_FILE = "slurm-job"
"""The file in a run's folder naming the SLURM job (array task) that runs it."""


def _job() -> str | None:
    """This SLURM job's id (``<array job>_<task>`` for a task of an array), or None outside SLURM."""
    if not SLURMEnvironment.detect():
        return None
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    return f"{array}_{task}" if array and task else os.environ.get("SLURM_JOB_ID")


class SlurmJobMarker(pl.Callback):
    """On SLURM, writes this job's id into the run's folder (:data:`JOB_FILE`), so that only this job,
    requeued, continues the run.

    It writes at ``setup``, once the processes of a multi-task job have met (the process group is
    up), and from the first process only: every task has chosen its run folder by then, so none
    sees the folder the marker creates and takes the next one.

    Args:
        run_dir (Path): the run's ``version_<n>`` folder.
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        job = _job()
        if job is not None and trainer.is_global_zero:
            atomic_write_text(self.run_dir / JOB_FILE, job + "\n")


def preempted_run(out_dir: Path) -> Path | None:
    """On SLURM, the run folder under ``out_dir`` that this job (requeued) was preempted in: the newest
    holding a preemption checkpoint and this job's id; otherwise None (a new run starts).

    Args:
        out_dir (Path): the recipe's output folder (``train.out_dir``), holding ``version_<n>`` folders.
    """
    job = _job()
    if job is None:
        return None
    saved = [path for path in out_dir.glob(f"version_*/{PATTERN}") if _job_of(path.parent) == job]
    return max(saved, key=lambda path: path.stat().st_mtime).parent if saved else None


def _job_of(run_dir: Path) -> str | None:
    """The SLURM job id written in ``run_dir``, if any."""
    marker = run_dir / JOB_FILE
    return marker.read_text().strip() if marker.is_file() else None


def clear_preemption_checkpoints(run_dir: Path) -> None:
    """Delete a finished run's preemption checkpoints, so that a later job starts a new run.

    Args:
        run_dir (Path): the run's ``version_<n>`` folder.
    """
    for path in run_dir.glob(PATTERN):
        path.unlink(missing_ok=True)
