"""The ``device`` suite: one command that checks an accelerator within a time budget and writes a
Markdown report with its CSVs (``python -m graphformers.bench device --minutes 8``).

1. **parts**: every registered part (:mod:`~graphformers.benchmarks.parts_check`) trained for a few
   steps on the device in each precision, its output compared with float32 on the CPU on the same
   weights and batch (about 15% of the time);
2. **model**: the ``model`` suite (ours against PyG's ``GPSConv``) on the device, float32 and bf16-mixed;
3. **recipe**: the Peptides-func GPS recipe for as many epochs as the remaining time allows:
   seconds and validation AP per epoch, and the projected time of the recipe's whole schedule.

``--quick`` runs the same code on the CPU at tiny sizes (the quickstart recipe, small batches): the
test that keeps this command working where no GPU is.
"""
from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path

import pytorch_lightning as pl
import torch

from graphformers.benchmarks import model, parts_check
from graphformers.benchmarks.results import write_csv
from graphformers.data.raw_files import MissingDataError
from graphformers.recipe import load_recipe
from graphformers.resources import environment
from graphformers.training.runner import run

REPOSITORY = Path(__file__).resolve().parents[2]
PARTS_SHARE = 0.15
"""Share of the budget the parts section may take; cases left when it is spent are reported as skipped."""
MARGIN_SHARE = 0.05
"""Share of the budget kept for testing the recipe's best checkpoint and writing the report."""
RECIPE_COLUMNS = ["suite", "recipe", "epoch", "epoch_seconds", "metric", "value", "schedule_epochs", "status"]
MODEL_SETTINGS = {"hidden": 96, "layers": 4, "heads": 4, "attn_dropout": 0.5}


class StopBeforeDeadline(pl.Callback):
    """Ends training after an epoch when the next one (as long as the slowest so far) would pass ``deadline``."""

    def __init__(self, deadline: float) -> None:
        self.deadline, self.started, self.longest = deadline, 0.0, 0.0

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.started = time.monotonic()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        now = time.monotonic()
        self.longest = max(self.longest, now - self.started)
        if now + self.longest > self.deadline:
            trainer.should_stop = True


def run_device(minutes: float, out: Path, quick: bool = False, root: str | None = None) -> str:
    """Run the three sections within ``minutes``, write their CSVs and ``device.md`` under ``out``;
    returns the report."""
    start = time.monotonic()
    deadline = start + minutes * 60
    device = torch.device("cuda" if torch.cuda.is_available() and not quick else "cpu")
    parts = run_parts(device, start + PARTS_SHARE * minutes * 60, quick)
    write_csv(parts, parts_check.COLUMNS, out / "device-parts.csv")
    models = run_models(device, quick, root)
    write_csv(models, model.COLUMNS, out / "device-model.csv")
    epochs = run_recipe(device, deadline - MARGIN_SHARE * minutes * 60, out, quick, root)
    write_csv(epochs, RECIPE_COLUMNS, out / "device-recipe.csv")
    report = _report(device, minutes, time.monotonic() - start, parts, models, epochs)
    (out / "device.md").write_text(report + "\n")
    return report


def run_parts(device: torch.device, until: float, quick: bool) -> list[dict]:
    """Each case in each precision the device has (bfloat16 needs a GPU of compute capability 8.0 or newer)."""
    precisions = ("32-true", "bf16-mixed") if quick else parts_check.PRECISIONS
    rows = []
    for name, case in parts_check.part_cases().items():
        for precision in precisions:
            row = {"suite": "parts", "case": name, "precision": precision, "device": str(device)}
            if time.monotonic() > until:
                rows.append({**row, "status": "skipped: the parts section's time was spent"})
            elif precision.startswith("bf16") and device.type == "cuda" and not torch.cuda.is_bf16_supported():
                rows.append({**row, "status": "skipped: this GPU has no bfloat16"})
            else:
                try:
                    rows.append(parts_check.check_part(name, case, precision, device, steps=1 if quick else 3))
                except RuntimeError as error:  # a kernel the device lacks: reported, the check goes on
                    rows.append({**row, "status": f"failed: {str(error).splitlines()[0]}"})
    return rows


def run_models(device: torch.device, quick: bool, root: str | None) -> list[dict]:
    """The ``model`` suite on the device: Peptides-func and generated molecules, float32 and bf16-mixed."""
    precisions = ["32-true", "bf16-mixed"]
    if quick:
        settings = {**MODEL_SETTINGS, "hidden": 32, "layers": 2}
        return model.run_model(["generated"], ["full"], 16, 2, settings, 1, device.type, root, precisions)
    return model.run_model(["peptides-func", "generated"], ["full", "performer"], 128, 8, MODEL_SETTINGS, 1,
                           device.type, root, precisions)


def run_recipe(device: torch.device, until: float, out: Path, quick: bool, root: str | None) -> list[dict]:
    """Epochs of the Peptides-func GPS recipe (quick: the quickstart recipe, small) until ``until``."""
    recipe_file = REPOSITORY / "recipes" / ("quickstart.yaml" if quick else "peptides-func-gps.yaml")
    overrides = [f"train.accelerator={'gpu' if device.type == 'cuda' else 'cpu'}", f"train.out_dir={out / 'runs'}",
                 "train.progress_bar=false"]
    overrides += ["data.options={num_train: 32, num_val: 16, num_test: 16}", "model.layers=1"] if quick else []
    overrides += [f"data.root={root}"] if root else []
    recipe = load_recipe(recipe_file, overrides)
    base = {"suite": "recipe", "recipe": recipe_file.name}
    try:
        result = run(recipe, callbacks=[StopBeforeDeadline(until)])
    except MissingDataError as error:
        return [{**base, "status": f"skipped: data not found ({str(error).splitlines()[0]})"}]
    return [{**base, **row, "metric": result.metric, "schedule_epochs": recipe.train.max_epochs, "status": "ok"}
            for row in _epochs(result.metrics_csv, f"val/{result.metric}")]


def _epochs(metrics_csv: Path, monitor: str) -> list[dict]:
    """``{epoch, epoch_seconds, value}`` per finished epoch, from the run's metrics.csv."""
    by_epoch: dict[int, dict] = {}
    with metrics_csv.open() as file:
        for line in csv.DictReader(file):
            epoch = by_epoch.setdefault(int(line["epoch"]), {"epoch": int(line["epoch"])})
            for column, key in (("train/epoch_seconds", "epoch_seconds"), (monitor, "value")):
                if line.get(column):
                    epoch[key] = float(line[column])
    return [epoch for epoch in by_epoch.values() if "epoch_seconds" in epoch and "value" in epoch]


def _report(device: torch.device, minutes: float, seconds: float, parts: Sequence[dict], models: Sequence[dict],
            epochs: Sequence[dict]) -> str:
    env = environment(device.type)
    lines = [f"# Device check: {env['device']}", "",
             f"torch {env['torch']}, PyG {env['pyg']}, commit {env['commit']}; budget {minutes:g} min, "
             f"took {seconds / 60:.1f} min.", "", "## Parts: training steps, and the output against float32 on the CPU",
             "", "| case | precision | max difference (relative) | first loss | last loss | s per step | status |",
             "|---|---|---|---|---|---|---|"]
    for row in parts:
        measured = "max_difference" in row
        lines.append(f"| {row['case']} | {row['precision']} | "
                     + (f"{row['max_difference']:.2e} | {row['first_loss']:.4f} | {row['last_loss']:.4f} | "
                        f"{row['seconds_per_step']:.4f} |" if measured else "| | | |") + f" {row['status']} |")
    lines += ["", "## Model: ours against PyG's GPSConv", "", model.markdown_table(models), "",
              "## Recipe: epochs in the remaining time", ""]
    finished = [row for row in epochs if row["status"] == "ok"]
    if not finished:
        lines.append(epochs[0]["status"] if epochs else "no epoch finished in the time left.")
        return "\n".join(lines)
    lines += [f"| epoch | seconds | validation {finished[0]['metric']} |", "|---|---|---|"]
    lines += [f"| {row['epoch']} | {row['epoch_seconds']:.1f} | {row['value']:.4f} |" for row in finished]
    mean, schedule = sum(row["epoch_seconds"] for row in finished) / len(finished), finished[0]["schedule_epochs"]
    lines += ["", f"Mean {mean:.1f} s per epoch (training batches): the {schedule} epochs of {finished[0]['recipe']} "
                  f"would take about {mean * schedule / 3600:.2f} h, validation not counted."]
    return "\n".join(lines)
