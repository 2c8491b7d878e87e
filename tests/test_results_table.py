"""recipes/README.md's reproduction table is what ``python -m graphformers.results table`` generates
from the recipes and the filed multi-run summaries; ``publish`` files a multi-run and regenerates it."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from graphformers.cli import main as cli
from graphformers.experiments.multirun import comparable_recipe
from graphformers.recipe import load_recipe
from graphformers.results.summary import RunRecord, read_records, write_records
from graphformers.results.table import BEGIN, END

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


@pytest.mark.slow
def test_the_reproduction_table_is_current():
    assert cli(["results", "table", "--check", "--recipes", str(RECIPES)]) == 0, \
        "recipes/README.md is stale: run python -m graphformers.results table"


def _recipes_folder(tmp_path: Path) -> Path:
    """A recipes folder with minesweeper-gcn.yaml and a README holding an empty table, then notes."""
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    shutil.copy(RECIPES / "minesweeper-gcn.yaml", recipes)
    shutil.copytree(RECIPES / "bases", recipes / "bases")
    (recipes / "README.md").write_text(f"# Recipes\n\n{BEGIN}\n{END}\n\nNotes.\n")
    return recipes


def test_publish_files_a_multi_run_and_the_table_shows_its_mean_std_and_budget(tmp_path, capsys):
    recipes = _recipes_folder(tmp_path)
    run_dir = tmp_path / "runs" / "minesweeper-gcn"
    run_dir.mkdir(parents=True)
    machines = ["cpu (x86_64), 2 threads", "cpu (x86_64), 2 threads; cpu (AMD EPYC, AVX2), 2 threads"]  # resumed there
    records = [RunRecord(f"version_{k}", seed=0, split=k, status="finished", metric="auroc", best_epoch=9, val=0.9,
                         test=test, wall_seconds=seconds, parameters=43393, hardware=machines[k])
               for k, (test, seconds) in enumerate([(0.90, 100.0), (0.92, 120.0)])]
    records.append(RunRecord("version_2", seed=0, split=2, status="failed", error="diverged"))
    write_records(run_dir / "summary.csv", records)
    (run_dir / "summary.md").write_text("summary\n")
    narrower = load_recipe(RECIPES / "minesweeper-gcn.yaml", ["model.hidden=64", f"train.out_dir={run_dir}"])
    (run_dir / "recipe.yaml").write_text(yaml.safe_dump(comparable_recipe(narrower)))  # what a multi-run writes
    assert cli(["results", "publish", str(run_dir), "--recipes", str(recipes)]) == 0
    readme = (recipes / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `minesweeper-gcn.yaml`"))
    assert "| 0.9100 ± 0.0141 (n = 2) |" in row  # mean and sample std of 0.90 and 0.92; the failed run left out
    assert f"| {(0.91 - 0.8975) / 0.0052:+.1f} |" in row and "| 110 s |" in row
    assert "reduced: model.hidden 64 (recipe: 512)" in row
    assert row.endswith("| cpu (AMD EPYC, AVX2), 2 threads; cpu (x86_64), 2 threads |")  # each machine once
    assert readme.startswith("# Recipes") and readme.endswith("Notes.\n")
    assert cli(["results", "table", "--check", "--recipes", str(recipes)]) == 0
    (recipes / "README.md").write_text(readme.replace("0.9100", "0.9200"))
    assert cli(["results", "table", "--check", "--recipes", str(recipes)]) == 1
    assert cli(["results", "publish", str(tmp_path / "nothing"), "--recipes", str(recipes)]) == 2
    assert "is not a multi-run folder" in capsys.readouterr().err


def _multi_run(run_dir: Path, runs: list[tuple[int, str, float | None, float | None]], *overrides: str) -> Path:
    """A multi-run folder as ``--seeds`` writes it: ``(seed, status, test, wall seconds)`` per run."""
    run_dir.mkdir(parents=True)
    write_records(run_dir / "summary.csv", [
        RunRecord(f"version_{k}", seed=seed, split=None, status=status, metric="auroc", best_epoch=9, val=0.9,
                  test=test, wall_seconds=seconds, parameters=43393, hardware="cpu (x86_64), 1 threads")
        for k, (seed, status, test, seconds) in enumerate(runs)])
    (run_dir / "summary.md").write_text(f"# minesweeper-gcn\n\n`python -m graphformers.train {run_dir.name}`\n")
    recipe = load_recipe(RECIPES / "minesweeper-gcn.yaml", [f"train.out_dir={run_dir}", *overrides])
    (run_dir / "recipe.yaml").write_text(yaml.safe_dump(comparable_recipe(recipe)))
    return run_dir


def test_publish_merges_seeds_run_apart_and_adds_later_ones(tmp_path, capsys):
    """Seeds of one recipe run as several multi-runs (two processes, or sessions) are filed as one."""
    recipes = _recipes_folder(tmp_path)
    runs = tmp_path / "runs"
    first = _multi_run(runs / "minesweeper-gcn", [(0, "finished", 0.90, 100.0), (1, "finished", 0.92, 120.0)])
    second = _multi_run(runs / "minesweeper-gcn-b", [(2, "finished", 0.94, 140.0), (3, "running", None, 50.0)])

    def row() -> str:
        readme = (recipes / "README.md").read_text()
        return next(line for line in readme.splitlines() if line.startswith("| `minesweeper-gcn.yaml`"))

    wider = _multi_run(runs / "wider", [(5, "finished", 0.97, 90.0)], "model.hidden=64")
    assert cli(["results", "publish", str(first), str(wider), "--recipes", str(recipes)]) == 2
    assert not (recipes / "results").exists()  # refused before anything was written
    assert cli(["results", "publish", str(first), str(second), "--recipes", str(recipes)]) == 0
    filed = recipes / "results" / "minesweeper-gcn"
    assert [(r.run, r.seed, r.status) for r in read_records(filed / "summary.csv")] == [
        ("minesweeper-gcn/version_0", 0, "finished"), ("minesweeper-gcn/version_1", 1, "finished"),
        ("minesweeper-gcn-b/version_0", 2, "finished"), ("minesweeper-gcn-b/version_1", 3, "running")]
    assert "| 0.9200 ± 0.0200 (n = 3) |" in row() and "| 120 s |" in row() and "| as the recipe |" in row()
    summary = (filed / "summary.md").read_text()
    assert "`python -m graphformers.train minesweeper-gcn; python -m graphformers.train minesweeper-gcn-b`" in summary

    later = _multi_run(runs / "later", [(4, "finished", 0.96, 160.0), (3, "finished", 0.92, 130.0)])
    assert cli(["results", "publish", str(later), "--add", "--recipes", str(recipes)]) == 0
    # the filed runs kept, seed 3 (running when filed) replaced by its finished run, seed 4 added
    assert [(r.run, r.seed, r.status) for r in read_records(filed / "summary.csv")][2:] == [
        ("minesweeper-gcn-b/version_0", 2, "finished"), ("later/version_1", 3, "finished"),
        ("later/version_0", 4, "finished")]
    assert "| 0.9280 ± 0.0228 (n = 5) |" in row() and "| 130 s |" in row()
    assert cli(["results", "table", "--check", "--recipes", str(recipes)]) == 0

    # a folder filed before and given again once its multi-run went on: its filed runs kept once, its new one added
    went_on = read_records(first / "summary.csv") + [RunRecord("version_2", seed=5, split=None, status="finished",
                                                               metric="auroc", best_epoch=9, val=float("nan"),
                                                               test=0.90, wall_seconds=110.0)]
    write_records(first / "summary.csv", went_on)
    assert cli(["results", "publish", str(first), "--add", "--recipes", str(recipes)]) == 0
    assert [(r.run, r.seed) for r in read_records(filed / "summary.csv")][-1] == ("minesweeper-gcn/version_2", 5)
    tests = [0.90, 0.92, 0.94, 0.92, 0.96, 0.90]
    assert f"| {np.mean(tests):.4f} ± {np.std(tests, ddof=1):.4f} (n = 6) |" in row()
    assert cli(["results", "publish", str(first), "--add", "--recipes", str(recipes)]) == 0  # NaN equals NaN here
    assert "(n = 6)" in row() and (filed / "summary.md").read_text().count("graphformers.train minesweeper-gcn;") == 1
    capsys.readouterr()
    again = _multi_run(runs / "again", [(4, "finished", 0.95, 150.0)])
    assert cli(["results", "publish", str(again), "--add", "--recipes", str(recipes)]) == 2
    assert "seed 4 finished in both" in capsys.readouterr().err
    assert cli(["results", "publish", str(wider), "--add", "--recipes", str(recipes)]) == 2
    refused = capsys.readouterr().err
    assert "ran another recipe" in refused and "model.hidden" in refused
    assert "(n = 6) |" in row()  # refused: nothing filed changed


def test_a_folder_filed_alone_may_be_given_again_once_its_multi_run_went_on(tmp_path):
    recipes = _recipes_folder(tmp_path)
    solo = _multi_run(tmp_path / "runs" / "minesweeper-gcn", [(0, "finished", 0.90, 100.0), (1, "running", None, 9.0)])
    assert cli(["results", "publish", str(solo), "--recipes", str(recipes)]) == 0
    runs = read_records(solo / "summary.csv")
    runs[1] = dataclasses.replace(runs[1], status="finished", test=0.92, wall_seconds=120.0)
    write_records(solo / "summary.csv", runs)
    assert cli(["results", "publish", str(solo), "--add", "--recipes", str(recipes)]) == 0
    filed = read_records(recipes / "results" / "minesweeper-gcn" / "summary.csv")
    assert [(r.seed, r.status, r.test) for r in filed] == [(0, "finished", 0.90), (1, "finished", 0.92)]
