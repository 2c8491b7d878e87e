"""Training end to end: the CLI, checkpoints, exact resumption, and what the mixer buys."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from conftest import epoch_values
from helpers.runs import StopAfterFirstEpoch, check_resume_is_exact

from graphformers.models.parts import mixer_companions
from graphformers.recipe import RecipeError, load_recipe
from graphformers.registry import MIXERS
from graphformers.training.module import GraphTask
from graphformers.training.runner import run

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "recipes" / "quickstart.yaml"
SMALL_DATA = ["data.options.num_train=300", "data.options.num_val=100", "data.options.num_test=100"]
EVERY_MIXER = [pytest.param(name, marks=pytest.mark.slow) if name == "mamba" else name for name in MIXERS.names()]
"""Every mixer; mamba's pure-PyTorch selective scan (mambapy, stepped in Python) trains ~10 s here: a slow test."""


def train_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphformers.train", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_quickstart_cli_trains_checkpoints_and_resumes(tmp_path):
    common = [str(QUICKSTART), *SMALL_DATA, f"train.out_dir={tmp_path}", "train.progress_bar=false"]
    first = train_cli(*common, "train.max_epochs=3")
    assert first.returncode == 0, first.stderr
    assert "no last checkpoint" not in first.stderr and "was called without a model" not in first.stderr
    assert "litlogger" not in first.stderr and "LeafSpec" not in first.stderr  # Lightning's ad and its own deprecation
    run_dir = tmp_path / "version_0"
    assert f"logs: {run_dir / 'metrics.csv'}" in first.stdout
    assert "test accuracy: " in first.stdout
    losses = epoch_values(run_dir / "metrics.csv", "train/loss")
    assert sorted(losses) == [0, 1, 2]
    assert losses[2] < losses[0]
    last = run_dir / "checkpoints" / "last.ckpt"
    assert last.is_file() and (run_dir / "checkpoints" / "best.ckpt").is_file()
    steps_per_epoch = 300 // 32 + 1
    assert torch.load(last, weights_only=True)["global_step"] == 3 * steps_per_epoch

    resumed = train_cli(*common, "train.max_epochs=5", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert not (tmp_path / "version_1").exists()
    assert sorted(epoch_values(run_dir / "metrics.csv", "train/loss")) == [0, 1, 2, 3, 4]
    assert torch.load(last, weights_only=True)["global_step"] == 5 * steps_per_epoch


def test_fresh_runs_never_overwrite_earlier_ones(tmp_path):
    recipe = load_recipe(QUICKSTART, [*SMALL_DATA, "data.options.num_train=32", f"train.out_dir={tmp_path}",
                                      "train.max_epochs=1", "train.progress_bar=false", "model.layers=1"])
    first, second = run(recipe), run(recipe)
    assert (first.run_dir.name, second.run_dir.name) == ("version_0", "version_1")


@pytest.mark.slow
def test_cli_reports_bad_recipes_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  mixer: performr\n")
    result = train_cli(str(bad))
    assert result.returncode == 2
    assert "error:" in result.stderr and "Unknown mixer 'performr'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_resume_without_a_run_says_what_to_do(tmp_path):
    result = train_cli(str(QUICKSTART), f"train.out_dir={tmp_path}", "--resume")
    assert result.returncode == 2
    assert "no last.ckpt under" in result.stderr and "Start without --resume" in result.stderr


class FirstBatches(pl.Callback):
    """Records a fingerprint of each training epoch's first batch."""

    def __init__(self) -> None:
        self.fingerprints = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx == 0:
            self.fingerprints.append((batch.num_nodes, float(batch.x.sum())))


@pytest.mark.parametrize("batching", [[], ["data.name=relay-large", "data.options={num_nodes: 3000}",
                                            "data.neighbors=[4, 3]", "model.encoders=[]"]], ids=["graphs", "neighbors"])
def test_training_batches_are_reshuffled_every_epoch_in_a_real_run(tmp_path, batching):
    """Lightning sets the epoch on ``loader.batch_sampler.sampler``; the order must follow it."""
    first = FirstBatches()
    run(load_recipe(QUICKSTART, [*SMALL_DATA, *batching, "train.max_epochs=3", "train.limit_batches=2",
                                 f"train.out_dir={tmp_path}", "train.progress_bar=false"]), callbacks=[first])
    assert len(first.fingerprints) == 3 and len(set(first.fingerprints)) == 3, first.fingerprints


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_resumed_training_equals_uninterrupted_training(tmp_path, precision):
    overrides = [*SMALL_DATA, "data.options.num_train=64", "data.batch_size=16", "train.max_epochs=3",
                 "train.warmup_epochs=1", "model.hidden=32", "model.layers=2", "model.dropout=0.2",
                 "model.attn_dropout=0.3", "model.encoders=[{name: lap, k: 4, dim: 8}]", "train.progress_bar=false",
                 f"train.precision={precision}"]
    check_resume_is_exact(QUICKSTART, overrides, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("sampling", [["data.neighbors=[4, 3]", "data.batch_size=128"], ["data.node_parts=6"]],
                         ids=["neighbors", "node_parts"])
def test_resumed_sampled_training_equals_uninterrupted_training(tmp_path, sampling):
    """Batches of one large graph replay exactly after resuming: the epoch's seed order comes from
    ``(seed, epoch)`` and each batch's neighbours from its seeds; dropout from the epoch seeder."""
    overrides = ["model.mixer=performer", "model.dropout=0.2", "model.encoders=[{name: rwse, dim: 8, steps: 6}]",
                 "data.name=relay-large", "data.options={num_nodes: 3000}", *sampling, "train.max_epochs=2",
                 "train.progress_bar=false"]
    check_resume_is_exact(QUICKSTART, overrides, tmp_path)


@pytest.mark.slow
def test_global_mixer_beats_pure_mpnn_on_relay(tmp_path):
    """The quickstart's claim: full attention solves relay, 3 GINE layers cannot (chance = 0.25).
    Seeds 0, 1, 2 of this schedule gave GPS 0.986 / 0.997 / 0.998."""
    overrides = ["data.options.num_train=1000", "data.options.num_val=200", "data.options.num_test=200",
                 "train.max_epochs=8", "train.scheduler=none", "train.lr=3e-3", "train.progress_bar=false"]
    gps = run(load_recipe(QUICKSTART, [*overrides, f"train.out_dir={tmp_path / 'gps'}"]))
    mpnn = run(load_recipe(REPO / "recipes" / "quickstart_mpnn.yaml",
                           [*overrides, f"train.out_dir={tmp_path / 'mpnn'}"]))
    assert gps.test_value > 0.9
    assert mpnn.test_value < 0.5


def test_graph_level_task_from_a_user_module_trains(tmp_path):
    recipe_file = tmp_path / "toy.yaml"
    recipe_file.write_text(
        "imports: [toy_parts]\n"
        "model: {hidden: 32, layers: 2, pool: sum, local: gatedgcn, encoders: [{name: lap, k: 4, dim: 8}]}\n"
        "data: {name: toy-size, batch_size: 32}\n"
        f"train: {{max_epochs: 4, lr: 0.005, out_dir: {tmp_path / 'runs'}, progress_bar: false}}\n"
    )
    result = run(load_recipe(recipe_file))
    losses = epoch_values(result.metrics_csv, "train/loss")
    assert losses[3] < losses[0]
    assert result.metric == "auroc" and result.test_value > 0.8


def _companions(mixer: str) -> list[str]:
    """Overrides setting what ``mixer`` needs besides itself (a node ordering for mamba and cat)."""
    return [f"model.{key}={spec.name}" for key, spec in mixer_companions(mixer).items()]


@pytest.mark.parametrize("mixer", EVERY_MIXER)
def test_each_mixer_trains_on_the_quickstart_task(tmp_path, mixer):
    recipe = load_recipe(QUICKSTART, [*SMALL_DATA, f"model.mixer={mixer}", *_companions(mixer), "train.max_epochs=3",
                                      f"train.out_dir={tmp_path}", "train.progress_bar=false"])
    losses = epoch_values(run(recipe).metrics_csv, "train/loss")
    assert losses[2] < losses[0]


@pytest.mark.parametrize("mixer", EVERY_MIXER)
def test_each_mixer_trains_on_neighbour_samples_of_a_100k_node_graph(tmp_path, mixer):
    """Batches of 128 target nodes with up to 5 + 25 sampled neighbours (<= 3,968 nodes) of one
    10^5-node graph; the mixer attends within each sampled subgraph (expander edges built on it)."""
    recipe = load_recipe(QUICKSTART, [f"model.mixer={mixer}", *_companions(mixer), "model.encoders=[]",
                                      "data.name=relay-large",
                                      "data.options={num_nodes: 100000}", "data.neighbors=[5, 5]",
                                      "data.batch_size=128", "train.max_epochs=3", "train.limit_batches=12",
                                      f"train.out_dir={tmp_path}", "train.progress_bar=false"])
    result = run(recipe)
    losses = epoch_values(result.metrics_csv, "train/loss")
    assert losses[2] < 0.9 * losses[0], losses


def test_resumed_run_appends_its_epochs_to_the_first_parts_metrics_csv(tmp_path):
    """``metrics.csv`` of a resumed run: the first part's rows unchanged, then the new epochs, one header."""
    recipe = load_recipe(QUICKSTART, [*SMALL_DATA, "data.options.num_train=32", "train.max_epochs=3",
                                      "train.limit_batches=2", "model.layers=1", "model.hidden=16",
                                      f"train.out_dir={tmp_path}", "train.progress_bar=false"])
    first = run(recipe, callbacks=[StopAfterFirstEpoch()])
    with first.metrics_csv.open(newline="") as file:
        first_rows = list(csv.DictReader(file))
    assert sorted(epoch_values(first.metrics_csv, "train/loss")) == [0]
    assert (first.run_dir / "hparams.yaml").is_file()

    resumed = run(recipe, resume="last")
    assert resumed.metrics_csv == first.metrics_csv
    lines = resumed.metrics_csv.read_text().splitlines()
    assert lines[0].startswith("epoch,") and lines.count(lines[0]) == 1  # one header, on top
    with resumed.metrics_csv.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) > len(first_rows)
    assert [{key: row[key] for key in first_rows[0]} for row in rows[:len(first_rows)]] == first_rows
    assert sorted(epoch_values(resumed.metrics_csv, "train/loss")) == [0, 1, 2]
    assert {int(row["epoch"]) for row in rows[len(first_rows):] if row["train/loss"]} == {1, 2}


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_weight_decay_is_an_l2_term_with_adam_and_decoupled_with_adamw(optimizer):
    """One step from a zero loss gradient: Adam's L2 term enters the normalised update (each weight
    moves by about lr), AdamW shrinks every weight by the factor 1 - lr * weight_decay."""
    recipe = load_recipe(REPO / "recipes/quickstart.yaml", [f"train.optimizer={optimizer}", "train.lr=0.01",
                                                           "train.weight_decay=0.5", "train.scheduler=none"])
    task = GraphTask(recipe.to_dict(), {"level": "node", "task": "multiclass", "num_outputs": 3,
                                        "metric": "accuracy", "node_encoder": "linear", "node_in": 4})
    adam = task.configure_optimizers()
    weight = next(task.model.node_encoder.parameters())
    before = weight.detach().clone()
    for parameter in task.parameters():
        parameter.grad = torch.zeros_like(parameter)
    adam.step()
    if optimizer == "adam":
        torch.testing.assert_close((before - weight.detach()).abs(), torch.full_like(before, 0.01), rtol=1e-3,
                                   atol=1e-6)
    else:
        torch.testing.assert_close(weight.detach(), before * (1 - 0.01 * 0.5))


def test_tensorboard_logger_writes_beside_the_csv_and_a_missing_extra_is_one_line(tmp_path, monkeypatch):
    recipe = load_recipe(QUICKSTART, [*SMALL_DATA, "data.options.num_train=64", f"train.out_dir={tmp_path}",
                                      "train.max_epochs=1", "train.progress_bar=false", "model.layers=1",
                                      "train.loggers=[csv, tensorboard]"])
    result = run(recipe)
    assert epoch_values(result.metrics_csv, "train/loss")
    events = list((result.run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    from graphformers import resources

    monkeypatch.setattr(resources.importlib.util, "find_spec", lambda name: None)
    for name in ("wandb", "mlflow", "tensorboard"):
        with pytest.raises(RecipeError,
                           match=rf"train.loggers: {name} needs the .* pip install 'graphformers\[{name}\]'"):
            load_recipe(QUICKSTART, [f"train.loggers=[{name}]"])
    with pytest.raises(RecipeError, match="Did you mean 'mlflow'"):
        load_recipe(QUICKSTART, ["train.loggers=[mlfow]"])
