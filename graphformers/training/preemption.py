"""SLURM preemption: Lightning's own requeue handling, pointed at the run it interrupted.

On a SLURM cluster (``SLURM_NTASKS`` set, job name not ``bash`` / ``interactive``) Lightning
catches the requeue signal (SIGUSR1; ask for it with ``#SBATCH --signal=USR1@90``), saves
``hpc_ckpt_<n>.ckpt`` in the Trainer's root folder and requeues the job with ``scontrol requeue``.
When the requeued job starts the same command again, Lightning resumes from the newest such
checkpoint it finds in that folder. The runner makes that folder the run's own
``version_<n>`` folder, finds it again on restart (:func:`preempted_run`), and deletes the
preemption checkpoints once the run has finished (:func:`clear_preemption_checkpoints`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from lightning_fabric.plugins.environments import SLURMEnvironment

PATTERN = "hpc_ckpt_*.ckpt"
"""The files Lightning writes when SLURM asks a job to requeue."""


def preempted_run(out_dir: Path) -> Optional[Path]:
    """On SLURM, the run folder under ``out_dir`` holding the newest preemption checkpoint (a
    requeued job continues that run); elsewhere, or when there is none, None.

    Args:
        out_dir (Path): the recipe's output folder (``train.out_dir``), holding ``version_<n>`` folders.
    """
    if not SLURMEnvironment.detect():
        return None
    saved = sorted(out_dir.glob(f"version_*/{PATTERN}"), key=lambda path: path.stat().st_mtime)
    return saved[-1].parent if saved else None


def clear_preemption_checkpoints(run_dir: Path) -> None:
    """Delete a finished run's preemption checkpoints, so that a later job starts a new run.

    Args:
        run_dir (Path): the run's ``version_<n>`` folder.
    """
    for path in run_dir.glob(PATTERN):
        path.unlink(missing_ok=True)
