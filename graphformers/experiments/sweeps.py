"""Hyperparameter sweeps with Optuna: each trial a normal run of the recipe under ``runs/<name>/sweep/``,
unpromising trials pruned on their validation metric, the study resumable from its SQLite file, and
a summary table and the best recipe written after every trial."""
from __future__ import annotations

import csv
import dataclasses
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import yaml

from graphformers.errors import GraphformersError, first_line
from graphformers.experiments.search_space import Dimension, override
from graphformers.io import atomic_write_text
from graphformers.metrics import higher_is_better
from graphformers.recipe import load_recipe
from graphformers.training.runner import run

log = logging.getLogger(__name__)
STUDY_FILE, TRIALS_CSV, TRIALS_MD, BEST_RECIPE = "study.db", "trials.csv", "trials.md", "best.yaml"


class SweepError(GraphformersError, RuntimeError):
    """A sweep that cannot start (Optuna missing, a study folder of another recipe)."""


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise SweepError("sweeps need the optuna package, which is not installed; "
                         "pip install 'graphformers[sweep]'.") from None
    return optuna


class PruneOnValidation(pl.Callback):
    """Reports each epoch's validation metric to the Optuna trial and stops the run when the pruner says so.

    Our own (a dozen lines) rather than ``optuna-integration``'s ``PyTorchLightningPruningCallback``,
    which is written against the ``lightning`` package namespace; graphformers uses ``pytorch_lightning``.

    Args:
        trial (optuna.Trial): the trial.
        monitor (str): the logged validation metric (``val/<metric>``).
    """

    def __init__(self, trial: Any, monitor: str) -> None:
        self.trial, self.monitor = trial, monitor

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        value = float(trainer.callback_metrics[self.monitor])
        # the study maximises: an error metric is negated here as in the trial's final value (_run_trial)
        self.trial.report(value if pl_module.objective.higher_is_better else -value, step=trainer.current_epoch)
        if self.trial.should_prune():
            raise _optuna().TrialPruned(f"pruned after epoch {trainer.current_epoch}")


@dataclass
class SweepResult:
    """Where the sweep wrote its study, table and best recipe, and the best trial's validation value."""

    out_dir: Path
    best_value: float | None
    best_params: dict[str, Any]
    trials: int


def sweep(recipe_path: str, dimensions: Sequence[Dimension], trials: int, overrides: Sequence[str] = (),
          seed: int = 0) -> SweepResult:
    """Run trials until the study holds ``trials`` finished (complete, pruned or failed) ones.

    Args:
        recipe_path (str): the recipe swept.
        dimensions (sequence of Dimension): the search space
            (:func:`~graphformers.experiments.search_space.load_space`).
        trials (int): finished trials the study should hold (a rerun continues the same study).
        overrides (sequence of str): fixed overrides applied to every trial.
        seed (int): the sampler's seed.
    """
    optuna = _optuna()
    base = load_recipe(recipe_path, overrides)
    out_dir = Path(base.train.out_dir or Path("runs") / base.name) / "sweep"
    out_dir.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=base.name, storage=f"sqlite:///{(out_dir / STUDY_FILE).resolve()}",
                                load_if_exists=True,
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
                                direction="maximize")  # error metrics are negated (see _run_trial)
    # seeded from the trials so far: a resumed study draws new values, not its first trials' again
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials))
    for stale in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(stale.number, state=optuna.trial.TrialState.FAIL)  # interrupted before it finished
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL)
    while len(study.get_trials(deepcopy=False, states=done)) < trials:
        _run_trial(study, recipe_path, dimensions, overrides, out_dir)
        write_summary(study, recipe_path, overrides, out_dir)
    write_summary(study, recipe_path, overrides, out_dir)
    best = _best(study)
    return SweepResult(out_dir, best.user_attrs["val_value"] if best else None, dict(best.params) if best else {},
                       len(study.trials))


def _run_trial(study: Any, recipe_path: str, dimensions: Sequence[Dimension], overrides: Sequence[str],
               out_dir: Path) -> None:
    """One trial: draw, run, and tell the study (errors of the recipe mark the trial failed, with the message)."""
    optuna = _optuna()
    trial = study.ask()
    chosen = [override(d.key, d.suggest(trial)) for d in dimensions]
    trial_dir = out_dir / f"trial_{trial.number}"
    try:
        recipe = load_recipe(recipe_path, [*overrides, *chosen, f"train.out_dir={trial_dir}"])
        # Optuna maximises; an error metric (mae, rmse) is negated so one direction serves every recipe
        sign = 1.0 if higher_is_better(_metric_of(recipe)) else -1.0
        result = run(recipe, callbacks=[PruneOnValidation(trial, f"val/{_metric_of(recipe)}")])
    except optuna.TrialPruned:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        return
    except GraphformersError as error:
        trial.set_user_attr("error", first_line(error))
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        log.warning("trial %d failed: %s", trial.number, error)
        return
    for key, value in (("val_value", result.val_value), ("test_value", result.test_value),
                       ("metric", result.metric), ("run_dir", str(result.run_dir))):
        trial.set_user_attr(key, value)
    study.tell(trial, sign * result.val_value)


def _metric_of(recipe: Any) -> str:
    from graphformers.data.datamodule import load_split_dataset
    from graphformers.registry import DATASETS

    declared = DATASETS.get(recipe.data.name).task_info(recipe.data.options)
    return (declared or load_split_dataset(recipe.data).info).metric


def _best(study: Any) -> Any:
    optuna = _optuna()
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return max(complete, key=lambda trial: trial.value) if complete else None


def write_summary(study: Any, recipe_path: str, overrides: Sequence[str], out_dir: Path) -> None:
    """``trials.csv`` / ``trials.md`` (one row per trial: state, values drawn, validation and test metric)
    and ``best.yaml``, the recipe with the best trial's values, ready to train; each written atomically."""
    rows = []
    keys = sorted({key for trial in study.trials for key in trial.params})
    for trial in study.trials:
        attrs = trial.user_attrs
        rows.append({"trial": trial.number, "state": trial.state.name.lower(),
                     **{k: trial.params.get(k, "") for k in keys},
                     "val": attrs.get("val_value", ""), "test": attrs.get("test_value", ""),
                     "metric": attrs.get("metric", ""), "note": attrs.get("error", "")})
    columns = ["trial", "state", *keys, "val", "test", "metric", "note"]
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out_dir / TRIALS_CSV, table.getvalue())
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in rows]
    atomic_write_text(out_dir / TRIALS_MD, "\n".join(lines) + "\n")
    best = _best(study)
    if best is not None:
        recipe = load_recipe(recipe_path, [*overrides, *(override(k, v) for k, v in best.params.items())])
        train = dataclasses.replace(recipe.train, out_dir=None)
        best_recipe = dataclasses.replace(recipe, train=train).to_dict()
        header = (f"# best trial {best.number} of the sweep in {out_dir}: "
                  f"val {best.user_attrs['metric']} {best.user_attrs['val_value']:.4f}\n")
        atomic_write_text(out_dir / BEST_RECIPE, header + yaml.safe_dump(best_recipe, sort_keys=False))


def _cell(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
