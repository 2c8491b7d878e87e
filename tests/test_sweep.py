"""Sweeps: a search space checked against the recipe, trials that are normal runs, pruning through
Lightning, a study that resumes, and the best recipe written ready to train."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import torch

from graphformers.experiments.search_space import SearchSpaceError, load_space
from graphformers.experiments.sweeps import PruneOnValidation
from graphformers.recipe import load_recipe
from graphformers.training.runner import run

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "recipes" / "quickstart.yaml"
SMALL = ["data.options.num_train=200", "data.options.num_val=64", "data.options.num_test=64", "model.layers=1",
         "train.max_epochs=2", "train.progress_bar=false"]


def _space(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return path


def test_space_keys_are_recipe_keys_and_ranges_make_sense(tmp_path):
    with pytest.raises(SearchSpaceError,
                       match="model.hiden=16: unknown key 'model.hiden'. Did you mean 'model.hidden'"):
        load_space(_space(tmp_path, "model.hiden: {choices: [16, 32]}\n"), QUICKSTART)
    with pytest.raises(SearchSpaceError, match="needs numbers low < high"):
        load_space(_space(tmp_path, "train.lr: {low: 0.1, high: 0.01}\n"), QUICKSTART)
    with pytest.raises(SearchSpaceError, match="a log range needs low > 0"):
        load_space(_space(tmp_path, "train.lr: {low: 0, high: 0.01, log: true}\n"), QUICKSTART)
    with pytest.raises(SearchSpaceError, match="must be \\{choices"):
        load_space(_space(tmp_path, "model.layers: [1, 2]\n"), QUICKSTART)
    space = "model.layers: {low: 1, high: 3}\ntrain.lr: {low: 1.0e-4, high: 1.0e-2, log: true}\n"
    dimensions = load_space(_space(tmp_path, space), QUICKSTART)
    assert [(d.key, d.whole) for d in dimensions] == [("model.layers", True), ("train.lr", False)]


def test_a_trial_the_pruner_stops_ends_after_its_first_validation(tmp_path):
    class StopAtOnce:
        reported: list = []

        def report(self, value: float, step: int) -> None:
            self.reported.append((step, value))

        def should_prune(self) -> bool:
            return True

    trial = StopAtOnce()
    recipe = load_recipe(QUICKSTART, [*SMALL, f"train.out_dir={tmp_path}"])
    with pytest.raises(optuna.TrialPruned, match="pruned after epoch 0"):
        run(recipe, callbacks=[PruneOnValidation(trial, "val/accuracy")])
    assert [step for step, _ in trial.reported] == [0] and 0 <= trial.reported[0][1] <= 1


def _sweep(space: Path, trials: int, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphformers.sweep", str(QUICKSTART), "--space", str(space),
                           "--trials", str(trials), *SMALL, f"train.out_dir={out}"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_sweep_runs_resumes_and_writes_the_best_recipe(tmp_path):
    space = _space(tmp_path, "train.lr: {low: 1.0e-3, high: 1.0e-2, log: true}\nmodel.hidden: {choices: [16, 32]}\n")
    out = tmp_path / "runs"
    first = _sweep(space, 2, out)
    assert first.returncode == 0, first.stderr
    with (out / "sweep" / "trials.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [row["trial"] for row in rows] == ["0", "1"] and {row["state"] for row in rows} <= {"complete", "pruned"}
    assert all((out / "sweep" / f"trial_{k}" / "version_0" / "metrics.csv").is_file() for k in (0, 1))
    resumed = _sweep(space, 3, out)
    assert resumed.returncode == 0, resumed.stderr
    with (out / "sweep" / "trials.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 3  # the study continued: one more trial, not three
    drawn = [(row["model.hidden"], row["train.lr"]) for row in rows]
    assert drawn[2] not in drawn[:2]  # the resumed sampler draws anew
    complete = [row for row in rows if row["state"] == "complete"]
    best = max(complete, key=lambda row: float(row["val"]))
    recipe = load_recipe(out / "sweep" / "best.yaml")
    assert recipe.model.hidden == int(best["model.hidden"]) and abs(recipe.train.lr - float(best["train.lr"])) < 1e-12
    assert recipe.train.out_dir is None and recipe.train.max_epochs == 2
    assert f"best: val {float(best['val']):.4f}" in resumed.stdout


def test_the_pruner_sees_error_metrics_negated_as_the_study_maximises():
    from types import SimpleNamespace

    reported = []
    trial = SimpleNamespace(report=lambda value, step: reported.append((step, value)), should_prune=lambda: False)
    trainer = SimpleNamespace(sanity_checking=False, callback_metrics={"val/mae": torch.tensor(0.5)}, current_epoch=3)
    for higher_is_better, expected in ((False, -0.5), (True, 0.5)):
        module = SimpleNamespace(objective=SimpleNamespace(higher_is_better=higher_is_better))
        PruneOnValidation(trial, "val/mae").on_validation_end(trainer, module)
        assert reported[-1] == (3, expected)
