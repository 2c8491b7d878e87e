"""Multi-runs over seeds and official splits: the summary's arithmetic against numpy, the ledger,
resuming a half-finished multi-run without redoing finished runs, and the bad-input lines."""
from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from helpers.paths import REPO
from helpers.runs import refused_training

from graphformers import resources
from graphformers.cli import main as cli
from graphformers.experiments import multirun
from graphformers.experiments.multirun import MultiRunError, parse_indices, run_many
from graphformers.recipe import PublishedResult, RecipeError, load_recipe
from graphformers.results.summary import (
    RunRecord,
    about,
    aggregate,
    comparison,
    finished,
    published_difference,
    read_records,
    write_markdown,
    write_records,
)
from graphformers.training.hardware import describe_device
from graphformers.training.runner import TrainingInterrupted

SMALL = ["model.hidden=16", "model.layers=1", "model.local=gcn", "model.mixer=none", "model.norm=layer",
         "train.max_epochs=3", "train.progress_bar=false"]


def _chameleon(tmp_path: Path, root: Path, *extra: str):
    recipe = tmp_path / "chameleon.yaml"
    recipe.write_text("data: {name: chameleon-filtered, batch_size: 1}\n")
    return load_recipe(recipe, [*SMALL, f"data.root={root}", f"train.out_dir={tmp_path / 'runs'}", *extra])


def test_mean_and_sample_std_equal_numpys_and_failed_runs_are_left_out(tmp_path):
    values = [0.91, 0.87, 0.93, 0.9, 0.885]
    result = aggregate(values)
    assert result.mean == pytest.approx(np.mean(values)) and result.std == pytest.approx(np.std(values, ddof=1))
    assert aggregate([0.5]).std is None and aggregate([]) is None
    undefined = aggregate([0.9, float("nan")])  # undefined in one run (ROC-AUC of one class): undefined
    assert np.isnan(undefined.mean) and np.isnan(undefined.std) and undefined.n == 2
    published = PublishedResult(metric="auroc", value=0.9, std=0.02, source="paper", protocol="10 splits")
    assert published_difference(result, published) == pytest.approx((np.mean(values) - 0.9) / 0.02)
    records = [RunRecord(f"version_{i}", seed=0, split=i, status="finished", metric="auroc", best_epoch=i, val=v,
                         test=v, wall_seconds=1.5, parameters=10) for i, v in enumerate(values)]
    records.append(RunRecord("version_9", seed=0, split=9, status="failed", error="the training loss is nan"))
    write_records(tmp_path / "summary.csv", records)
    assert read_records(tmp_path / "summary.csv") == records
    assert [r.test for r in finished(records)] == values
    write_markdown(tmp_path / "summary.md", "demo", records, published, True, "python -m graphformers.train demo.yaml")
    text = (tmp_path / "summary.md").read_text()
    mean, std = np.mean(values), np.std(values, ddof=1)
    assert f"test auroc: {mean:.4f} ± {std:.4f} (mean ± sample std over 5 finished runs)" in text
    assert "failed: the training loss is nan" in text and "1 failed run(s), left out of the means" in text
    below = aggregate([0.85, 0.855])
    assert "difference -2.4 published std (worse)" in comparison(below, published, higher_is_better=True)
    assert "(not worse)" in comparison(below, PublishedResult("mae", 0.9, "p", "q", 0.02), higher_is_better=False)


@pytest.mark.parametrize("text, values", [("0,1,2", [0, 1, 2]), ("0-3", [0, 1, 2, 3]), ("0-2,7", [0, 1, 2, 7]),
                                          ("4", [4])])
def test_seed_and_split_lists(text, values):
    assert parse_indices(text, "--seeds") == values


@pytest.mark.parametrize("text, message", [("0,x", "'x' is not a whole number"), ("3-1", "runs backwards"),
                                           ("0,1,1", "lists 1 more than once"), ("", "'' is not a whole number")])
def test_malformed_seed_lists_are_refused(text, message):
    with pytest.raises(MultiRunError, match=message):
        parse_indices(text, "--seeds")


def test_bad_multi_run_options_are_one_error_line_before_training(capsys, tmp_path, node_data_root):
    cora = str(REPO / "recipes" / "cora-gat.yaml")
    common = [f"data.root={node_data_root}", f"train.out_dir={tmp_path / 'runs'}"]
    assert "--seeds '0,a': 'a' is not a whole number" in refused_training(capsys, [cora, "--seeds", "0,a", *common])
    assert "'cora' ships one official split" in refused_training(capsys, [cora, "--splits", "0-2", *common])
    minesweeper = str(REPO / "recipes" / "minesweeper-gcn.yaml")
    line = refused_training(capsys, [minesweeper, "--splits", "8-11", *common])
    assert "'minesweeper' has official splits 0 to 9; 10, 11 lie beyond them" in line
    line = refused_training(capsys, [minesweeper, "--seeds", "0,1", "train.devices=2", *common])
    assert "run one process per run" in line
    assert "--jobs 0: give how many runs" in refused_training(capsys, [minesweeper, "--seeds", "0,1", "--jobs", "0",
                                                                         *common])
    assert "add --seeds or --splits" in refused_training(capsys, [minesweeper, "--jobs", "2", *common])
    assert not (tmp_path / "runs").exists()


def test_a_published_block_must_name_the_datasets_metric_in_its_units(tmp_path):
    recipe = REPO / "recipes" / "minesweeper-gcn.yaml"
    with pytest.raises(RecipeError, match="published.metric is 'accuracy', but 'minesweeper' reports 'auroc'"):
        load_recipe(recipe, ["published.metric=accuracy"])
    with pytest.raises(RecipeError, match=r"published.value 89.75 is not a fraction, .* divide the published mean"):
        load_recipe(recipe, ["published.value=89.75"])
    with pytest.raises(RecipeError, match="'published' needs 'source', 'protocol' \\(no default\\)"):
        load_recipe(recipe, ["published={metric: auroc, value: 0.9}"])


class InterruptAt(pl.Callback):
    """Sends Ctrl-C (SIGINT) to this process at the end of epoch ``epoch`` of the run on split ``split``."""

    def __init__(self, split: int, epoch: int) -> None:
        self.split, self.epoch = split, epoch

    def on_train_epoch_end(self, trainer, pl_module):
        if pl_module.recipe.data.options.get("split") == self.split and trainer.current_epoch == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


class PauseAfterFirstEpoch(pl.Callback):
    """Waits ``seconds`` at the end of the first epoch of the run on split ``split`` (time a ledger must count)."""

    def __init__(self, split: int, seconds: float) -> None:
        self.split, self.seconds = split, seconds

    def on_train_epoch_end(self, trainer, pl_module):
        if pl_module.recipe.data.options.get("split") == self.split and trainer.current_epoch == 0:
            time.sleep(self.seconds)


@pytest.mark.slow
def test_an_interrupted_multi_run_resumes_without_redoing_finished_runs(tmp_path, node_data_root, monkeypatch,
                                                                         ctrl_c_raises):
    recipe = _chameleon(tmp_path, node_data_root)
    started = []
    real_run = multirun.run

    seconds = {}

    def run_with(extra):
        def wrapped(one, resume=None, run_dir=None, callbacks=()):
            started.append((one.data.options["split"], resume is not None))
            begun = time.perf_counter()
            try:
                return real_run(one, resume=resume, run_dir=run_dir, callbacks=[*callbacks, *extra])
            finally:
                seconds[one.data.options["split"]] = time.perf_counter() - begun
        return wrapped

    monkeypatch.setattr(multirun, "run", run_with([PauseAfterFirstEpoch(split=1, seconds=1.0),
                                                   InterruptAt(split=1, epoch=1)]))
    monkeypatch.setattr(multirun, "describe_device", lambda accelerator: "machine A")
    with pytest.raises(TrainingInterrupted):
        run_many(recipe, None, [0, 1, 2], resume=False, command="test", report=lambda line: None)
    ledger = read_records(tmp_path / "runs" / "summary.csv")
    assert [(r.split, r.status) for r in ledger] == [(0, "finished"), (1, "running")]
    interrupted_seconds = ledger[1].wall_seconds  # as of its last epoch's end, the pause included
    assert 1.0 <= interrupted_seconds <= seconds[1] + 0.1
    with pytest.raises(MultiRunError, match="already holds a multi-run .* --resume"):
        run_many(recipe, None, [0, 1, 2], resume=False, command="test")

    started.clear()
    monkeypatch.setattr(multirun, "run", run_with([]))
    monkeypatch.setattr(multirun, "describe_device", lambda accelerator: "machine B")  # resumed on another machine
    lines = []
    result = run_many(recipe, None, [0, 1, 2], resume=True, command="test", report=lines.append)
    # the time left is estimated from the finished runs' whole times, the resumed run's earlier part included
    whole = about(statistics.fmean(r.wall_seconds for r in result.records[:2]))
    assert lines[0].endswith(f"; 1 left, about {whole} at {whole} a run)") and "left" not in lines[1]
    assert started == [(1, True), (2, False)]  # split 0 not redone; split 1 continued from its last.ckpt
    assert [r.hardware for r in result.records] == ["machine A", "machine A; machine B", "machine B"]
    assert [(r.split, r.status, r.run) for r in result.records] == [
        (0, "finished", "version_0"), (1, "finished", "version_1"), (2, "finished", "version_2")]
    # the resumed run's time is both parts' (within rounding and the multi-run's own bookkeeping)
    assert result.records[1].wall_seconds == pytest.approx(interrupted_seconds + seconds[1], abs=0.3)

    uninterrupted = _chameleon(tmp_path, node_data_root, f"train.out_dir={tmp_path / 'straight'}")
    straight = run_many(uninterrupted, None, [0, 1, 2], resume=False, command="test", report=lambda line: None)
    assert [r.test for r in straight.records] == [r.test for r in result.records]  # resuming is exact
    assert [r.best_epoch for r in straight.records] == [r.best_epoch for r in result.records]

    changed = _chameleon(tmp_path, node_data_root, "model.hidden=32")
    with pytest.raises(MultiRunError, match=r"recipe differs .*model.hidden: 16 -> 32"):
        run_many(changed, None, [0, 1, 2], resume=True, command="test")


@pytest.mark.parametrize("model, capability, amx, threads, expected", [
    ("AMD EPYC", "AVX2", False, 1, "cpu (AMD EPYC, AVX2), 1 thread"),
    ("Intel(R) Xeon(R) Platinum 8480+", "AVX512", True, 2,
     "cpu (Intel(R) Xeon(R) Platinum 8480+, AVX512, AMX), 2 threads")])
def test_a_runs_hardware_names_its_cpu_the_instructions_torch_uses_and_its_threads(monkeypatch, model, capability,
                                                                                    amx, threads, expected):
    monkeypatch.setattr(resources, "_cpu_model", lambda: model)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
    assert describe_device("cpu") == f"{expected}, torch {torch.__version__}"


def test_durations_read_as_a_person_says_them_in_the_time_left_and_the_summary(tmp_path):
    assert [about(s) for s in (0.4, 29, 31, 719, 3599, 3600, 24_000)] == [
        "0 s", "29 s", "1 min", "12 min", "1 h 0 min", "1 h 0 min", "6 h 40 min"]
    for seconds, line in ((41.4, "41 s on average\n"), (3398.0, "3398 s on average, about 57 min\n")):
        records = [RunRecord("version_0", seed=0, split=None, status="finished", metric="auroc", best_epoch=3, val=0.8,
                             test=0.7, wall_seconds=seconds, parameters=10)]
        write_markdown(tmp_path / "summary.md", "demo", records, None, True, "python -m graphformers.train demo.yaml")
        assert f"- wall time per run: {line}" in (tmp_path / "summary.md").read_text()


def test_seeds_by_splits_through_the_command_line(capsys, tmp_path, node_data_root):
    recipe = tmp_path / "chameleon.yaml"
    recipe.write_text("data: {name: chameleon-filtered, batch_size: 1}\n")
    argv = [str(recipe), *SMALL, "train.max_epochs=1", f"data.root={node_data_root}",
            f"train.out_dir={tmp_path / 'runs'}",
            "--seeds", "0-1", "--splits", "3,5"]
    assert cli(["train", *argv]) == 0
    out = capsys.readouterr().out
    ends = [line for line in out.splitlines() if line.startswith("run ")]
    left = [re.search(r"; (\d) left, about \d+ (s|min) at \d+ (s|min) a run\)$", line)[1] for line in ends[:3]]
    assert left == ["3", "2", "1"]
    assert ends[3].endswith(" s)") and "left" not in ends[3]
    records = read_records(tmp_path / "runs" / "summary.csv")
    assert [(r.seed, r.split) for r in records] == [(0, 3), (0, 5), (1, 3), (1, 5)]
    assert all(r.status == "finished" and r.parameters and r.wall_seconds > 0 for r in records)
    assert f"measured {aggregate([r.test for r in records]).format()} (n = 4)" in out
    assert (tmp_path / "runs" / "recipe.yaml").is_file() and (tmp_path / "runs" / "summary.md").is_file()


@pytest.mark.slow
def test_runs_side_by_side_score_as_runs_one_after_another(capsys, tmp_path, node_data_root):
    recipe = tmp_path / "chameleon.yaml"
    recipe.write_text("data: {name: chameleon-filtered, batch_size: 1}\n")
    common = [str(recipe), *SMALL, "model.dropout=0.3", f"data.root={node_data_root}", "--seeds", "0-1",
              "--splits", "3"]
    assert cli(["train", *common, f"train.out_dir={tmp_path / 'together'}", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "run 1/2 (seed 0, split 3" in out and "run 2/2 (seed 1, split 3" in out
    for number, seed in ((1, 0), (2, 1)):  # where each run's console output went, said as it starts
        log = tmp_path / "together" / f"version_{seed}" / "output.log"
        assert f"run {number}/2 (seed {seed}, split 3) starts: {log}" in out
    assert cli(["train", *common, f"train.out_dir={tmp_path / 'in-turn'}"]) == 0
    together = read_records(tmp_path / "together" / "summary.csv")
    in_turn = read_records(tmp_path / "in-turn" / "summary.csv")
    assert [(r.seed, r.status) for r in together] == [(0, "finished"), (1, "finished")]
    assert [(r.test, r.best_epoch) for r in together] == [(r.test, r.best_epoch) for r in in_turn]
    for record in together:  # each run's console output is in its own folder
        assert "Restored" not in (log := (tmp_path / "together" / record.run / "output.log").read_text())
        assert "GPU available" in log


@pytest.mark.slow
def test_a_stopped_side_by_side_multi_run_says_how_to_continue_and_continues(tmp_path, node_data_root):
    recipe = tmp_path / "chameleon.yaml"
    recipe.write_text("data: {name: chameleon-filtered, batch_size: 1}\n")
    command = [sys.executable, "-m", "graphformers", "train", str(recipe), *SMALL, "train.max_epochs=200",
               f"data.root={node_data_root}", f"train.out_dir={tmp_path / 'runs'}", "--seeds", "0-2", "--splits", "3",
               "--jobs", "2"]
    started = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ledger = tmp_path / "runs" / "summary.csv"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # until both runs have finished an epoch
        records = read_records(ledger) if ledger.is_file() else []
        if len(records) == 2 and all(r.wall_seconds for r in records):
            break
        time.sleep(0.2)
    started.send_signal(signal.SIGTERM)
    out, err = started.communicate(timeout=300)
    assert started.returncode == 2, err
    assert "error: the multi-run was stopped" in err and "--resume" in err
    records = read_records(ledger)
    assert [(r.seed, r.status) for r in records] == [(0, "running"), (1, "running")]  # seed 2 never started
    for record in records:
        assert (tmp_path / "runs" / record.run / "checkpoints" / "interrupted.ckpt").is_file()
        assert "interrupted by SIGTERM" in (tmp_path / "runs" / record.run / "output.log").read_text()

    resumed = subprocess.run([*command, "--resume"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert [(r.seed, r.status, r.run) for r in read_records(ledger)] == [
        (0, "finished", "version_0"), (1, "finished", "version_1"), (2, "finished", "version_2")]
