"""The benchmark harness: quick runs of each suite write well-formed CSVs; their bookkeeping is right."""
from __future__ import annotations

import csv
import io
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ogb.utils.features import get_atom_feature_dims, get_bond_feature_dims
from torch_geometric.utils import is_undirected

from graphformers.benchmarks import memory
from graphformers.benchmarks.encoders import COLUMNS as ENCODER_COLUMNS
from graphformers.benchmarks.fullbatch import COLUMNS as FULLBATCH_COLUMNS
from graphformers.benchmarks.fullbatch import PARTS
from graphformers.benchmarks.graphs import (
    EDGES_PER_NODE,
    GENERATED_LABELS,
    generated_graphs,
    molecule_like_graphs,
    synthetic_graph,
)
from graphformers.benchmarks.memory import added_mib, reset_peak
from graphformers.benchmarks.model import COLUMNS as MODEL_COLUMNS
from graphformers.benchmarks.model import GENERATED
from graphformers.benchmarks.model_worker import build
from graphformers.benchmarks.pairs import COLUMNS as PAIRS_COLUMNS
from graphformers.benchmarks.pairs import per_graph_rrwp
from graphformers.benchmarks.scaling import COLUMNS, fitted_exponent, projected_seconds, run_scaling
from graphformers.benchmarks.step import COLUMNS as STEP_COLUMNS
from graphformers.pair_encodings import RRWP
from graphformers.pair_encodings.precompute import encode_pairs
from graphformers.recipe import ModelConfig, PartSpec

REPO = Path(__file__).resolve().parent.parent


def _quick_run(suite: str, out: Path, *options: str,
               plot: bool = True) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """``python -m graphformers.bench SUITE --quick [options]``: the finished process and its CSV rows;
    the suite's PNG (if it draws one) must be a real image."""
    done = subprocess.run([sys.executable, "-m", "graphformers.bench", suite, "--quick", "--out", str(out), *options],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    if plot:
        png = (out / f"{suite}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
    with (out / f"{suite}.csv").open() as file:
        return done, list(csv.DictReader(file))


def row_value(row: dict, column: str):
    """A CSV cell, None where empty."""
    return row[column] or None


@pytest.mark.slow
def test_quick_model_run_compares_with_pyg_gpsconv_in_each_precision_and_measures_the_rest_alone(tmp_path):
    """Full attention, ours beside PyG's GPSConv, in each precision; ``none`` (ours without a global mixer:
    the work both models share) and a mixer PyG's GPSConv lacks (cat, with its degree order) have no PyG
    row and are compared with ours with full attention instead."""
    done, rows = _quick_run("model", tmp_path, "--mixers", "none,full,cat", "--precision", "32-true,bf16-mixed")
    assert list(rows[0]) == MODEL_COLUMNS
    precisions = ("32-true", "bf16-mixed")
    assert [(row["mixer"], row["precision"], row["implementation"]) for row in rows] == [
        *(("none", precision, "ours") for precision in precisions),
        *(("full", precision, implementation) for precision in precisions for implementation in ("ours", "pyg")),
        *(("cat", precision, "ours") for precision in precisions)]
    for row in rows:
        assert row["status"] == "ok", row
        for column in ("seconds", "graphs_per_s", "nodes_per_s"):
            assert float(row[column]) > 0 and math.isfinite(float(row[column]))
        assert math.isfinite(float(row["peak_mib"])) and row["device"].startswith("cpu")
        assert float(row["fastest_seconds"]) <= float(row["seconds"])
        compared = row["implementation"] == "ours" and row["precision"] == "bf16-mixed"
        assert (float(row["speedup_vs_float32"]) > 0) if compared else row["speedup_vs_float32"] == ""
        beside_pyg = row["mixer"] == "full" and row["implementation"] == "ours"
        for column in ("speedup_vs_pyg", "fastest_speedup_vs_pyg", "memory_vs_pyg"):
            assert (float(row[column]) > 0) if beside_pyg else row_value(row, column) is None
    ours_alone, ours_full, cat = rows[0], rows[2], rows[6]
    assert int(ours_alone["parameters"]) < int(cat["parameters"]) < int(ours_full["parameters"])
    assert ("| batches | mixer | precision | PyG GPSConv graphs/s | ours graphs/s | speed-up (median) | "
            "speed-up (fastest) |") in done.stdout
    assert "| generated (2 x 16) | none | 32-true | — |" in done.stdout
    assert "| generated (2 x 16) | cat | 32-true | — |" in done.stdout
    lines = [line for line in done.stdout.splitlines() if line.startswith("| generated")]
    assert sum(line.count("|") == 13 for line in lines) == 6  # none, full (with PyG's), cat; in each precision
    beside_full = [line.split("|")[1:-1] for line in lines if line.count("|") == 11]
    assert len(beside_full) == 2  # the second table: cat beside ours with full attention, in each precision
    assert [cell.strip() for cell in beside_full[0]] == [
        "generated (2 x 16)", "cat", "32-true", f"{float(ours_full['graphs_per_s']):.1f}",
        f"{float(cat['graphs_per_s']):.1f}", f"{float(cat['graphs_per_s']) / float(ours_full['graphs_per_s']):.2f}x",
        f"{float(ours_full['peak_mib']):.0f}", f"{float(cat['peak_mib']):.0f}",
        f"{float(cat['peak_mib']) / float(ours_full['peak_mib']):.2f}", f"{int(cat['parameters']):,}"]


@pytest.mark.slow
def test_quick_step_run_times_each_precision_and_an_earlier_commit_of_the_same_recipe(tmp_path):
    done, rows = _quick_run("step", tmp_path, "--against", "HEAD", "--compare", "model.hidden=32", plot=False)
    assert list(rows[0]) == STEP_COLUMNS
    assert [(row["code"], row["precision"]) for row in rows] == [
        ("this checkout", "32-true"), ("this checkout", "bf16-mixed"), ("this checkout, model.hidden=32", "32-true"),
        ("HEAD", "32-true")]
    for row in rows:
        assert row["status"] == "ok", row
        assert float(row["seconds_per_step"]) > 0 and float(row["nodes_per_batch"]) > 0
    assert [row["speedup_of"] for row in rows] == ["HEAD 32-true"] * 3 + [""]
    assert all(float(row["speedup"]) > 0 and float(row["fastest_speedup"]) > 0 for row in rows[:3])
    assert all(float(row["fastest_seconds_per_step"]) <= float(row["seconds_per_step"]) for row in rows)
    assert ("| set (recipe) | code | precision | nodes per batch | s per step (median) | speed-up (median) | "
            "s per step (fastest) | speed-up (fastest) | over |") in done.stdout


@pytest.mark.parametrize("mixer", ["full", "performer"])
def test_reference_pyg_model_and_ours_have_equal_parameter_counts(mixer):
    config = ModelConfig(hidden=96, layers=4, heads=4, local=PartSpec("gine"), mixer=PartSpec(mixer), norm="batch")
    ours, pyg = (sum(p.numel() for p in build(name, config, GENERATED).parameters()) for name in ("ours", "pyg"))
    assert abs(ours - pyg) <= 0.05 * pyg, (ours, pyg)


@pytest.mark.slow
def test_peak_memory_is_what_the_work_after_the_reset_added():
    """The peak counts memory touched after :func:`reset_peak`, from the level it returned; memory freed after the
    reset cannot make it negative (the resident set read before a reset could be above the new peak)."""
    cpu = torch.device("cpu")
    held = torch.ones(64 * 2**18)  # 64 MiB, written
    start = reset_peak(cpu)
    del held
    assert added_mib(start, cpu) == pytest.approx(0, abs=4)
    start = reset_peak(cpu)
    added = torch.ones(128 * 2**18)
    assert added_mib(start, cpu) == pytest.approx(128, abs=8)
    assert reset_peak(cpu) >= start + 120 and added.numel() == 128 * 2**18


def test_added_memory_is_never_negative_where_the_kernels_counters_read_a_few_pages_low(monkeypatch):
    reads = iter([512.0, 511.875])  # the reset's read, then a read 32 pages lower (seen in CI)
    monkeypatch.setattr(memory, "_high_water_mib", lambda: next(reads))
    monkeypatch.setattr(memory, "open", lambda *args, **kwargs: io.StringIO(), raising=False)  # clear_refs
    cpu = torch.device("cpu")
    assert memory.added_mib(memory.reset_peak(cpu), cpu) == 0.0


def test_quick_scaling_run_writes_positive_finite_measurements(tmp_path):
    done, rows = _quick_run("scaling", tmp_path)
    assert list(rows[0]) == COLUMNS
    assert {row["mixer"] for row in rows} == {"performer", "exphormer", "polynormer", "sgformer", "aft", "cat",
                                              "mamba", "full"}
    for row in rows:
        assert row["status"] == "ok", row
        assert float(row["seconds"]) > 0 and math.isfinite(float(row["seconds"]))
        assert float(row["peak_mib"]) >= 0 and int(row["edges"]) > 0
    assert "| mixer | N=200 | N=2,000 | time exponent | steady time exponent | memory exponent |" in done.stdout


@pytest.mark.slow
def test_a_scaling_point_is_measured_in_worker_processes_with_each_allocator():
    """Outside ``--quick`` a point runs in two worker processes, under the memory cap: the default allocator's time and
    peak, then the steady allocator's time."""
    (row,) = run_scaling(["performer"], [300], memory_gib=8, repeats=1, timeout_s=120)
    assert row["status"] == "ok", row
    assert row["seconds"] > 0 and row["steady_seconds"] > 0 and row["peak_mib"] >= 0 and row["edges"] > 0


@pytest.mark.slow
def test_full_attention_stops_when_its_quadratic_projection_exceeds_the_limit():
    rows = run_scaling(["full"], [500, 500_000, 5_000_000], memory_gib=16, repeats=1, timeout_s=30, quick=True)
    assert rows[0]["status"] == "ok"
    projected = projected_seconds("full", rows[0], 500_000)
    assert projected == pytest.approx(rows[0]["seconds"] * 1000**2) and projected > 30
    assert rows[1]["status"] == f"too large for full attention: ~{projected:,.0f} s per step projected (limit 30 s)"
    assert rows[2]["status"] == rows[1]["status"]


def test_fitted_exponent_recovers_a_power_law():
    rows = [{"mixer": "m", "nodes": n, "status": "ok", "seconds": 3e-6 * n**1.1, "peak_mib": 0.01 * n}
            for n in (1_000, 10_000, 100_000, 1_000_000)]
    assert fitted_exponent(rows, "m", "seconds") == pytest.approx(1.1)
    assert fitted_exponent(rows, "m", "peak_mib") == pytest.approx(1.0)
    assert math.isnan(fitted_exponent(rows[:1], "m", "seconds"))


@pytest.mark.slow
def test_quick_encoders_run_compares_with_pyg_and_agrees_on_rwse(tmp_path):
    done, rows = _quick_run("encoders", tmp_path)
    assert list(rows[0]) == ENCODER_COLUMNS
    assert {(row["graph_set"], row["method"]) for row in rows} == {
        (graph_set, method) for graph_set in ("molecules", "one graph, N=1,500")
        for method in ("pyg", "ours", "ours-workers2")}
    for row in rows:
        assert row["status"] == "ok", row
        for column in ("seconds", "graphs_per_s", "speedup_vs_pyg"):
            assert float(row[column]) > 0 and math.isfinite(float(row[column]))
        if row["encoding"].startswith("rwse") and row["method"] != "pyg":
            assert float(row["max_abs_diff_vs_pyg"]) < 1e-5
    assert "| encoding | graphs | method | seconds | graphs/s | speed-up vs PyG |" in done.stdout


def test_synthetic_graph_is_seeded_undirected_and_about_five_edges_per_node():
    graph = synthetic_graph(1000, channels=8)
    assert graph.x.shape == (1000, 8) and is_undirected(graph.edge_index, num_nodes=1000)
    assert 0.9 * EDGES_PER_NODE * 1000 <= graph.edge_index.size(1) <= EDGES_PER_NODE * 1000
    again, other = synthetic_graph(1000, channels=8), synthetic_graph(1000, seed=1, channels=8)
    assert torch.equal(graph.edge_index, again.edge_index) and torch.equal(graph.x, again.x)
    assert not torch.equal(graph.x, other.x)


def test_molecule_like_and_generated_graphs_are_seeded_with_valid_ogb_features():
    molecules = molecule_like_graphs(50, seed=3)
    assert all(10 <= graph.num_nodes <= 40 and is_undirected(graph.edge_index) for graph in molecules)
    assert all(graph.edge_index.size(1) >= 2 * (graph.num_nodes - 1) for graph in molecules)
    generated = generated_graphs(50, seed=3)
    for graph, molecule in zip(generated, molecules, strict=True):
        assert torch.equal(graph.edge_index, molecule.edge_index) and graph.y.shape == (1, GENERATED_LABELS)
        assert (graph.x < torch.tensor(get_atom_feature_dims())).all() and (graph.x >= 0).all()
        assert (graph.edge_attr < torch.tensor(get_bond_feature_dims())).all() and (graph.edge_attr >= 0).all()
    assert torch.equal(generated_graphs(50, seed=3)[7].x, generated[7].x)


@pytest.mark.slow
def test_quick_fullbatch_run_times_each_part_of_an_epoch_on_minesweeper(tmp_path, node_data_root):
    recipes = ",".join(f"recipes/minesweeper-{name}.yaml" for name in ("gcn", "gt"))
    done, rows = _quick_run("fullbatch", tmp_path, "--recipes", recipes, "--set", f"data.root={node_data_root}")
    assert list(rows[0]) == FULLBATCH_COLUMNS
    assert [(row["recipe"], row["path"]) for row in rows] == [
        ("minesweeper-gcn", "adjacency"), ("minesweeper-gcn", "per-edge"), ("minesweeper-gt", "per-edge")]
    for row in rows:
        assert row["status"] == "ok" and (row["nodes"], row["edges"]) == ("10000", "78804"), row
        parts = [float(row[part]) for part in PARTS]
        assert all(part > 0 for part in parts) and float(row["collate_ms"]) > 0
        assert float(row["epoch_ms"]) == pytest.approx(sum(parts), abs=0.3)
        assert float(row["epochs_per_s"]) == pytest.approx(1000 / float(row["epoch_ms"]), rel=0.01)
    adjacency, per_edge = rows[0], rows[1]
    assert float(adjacency["speedup_vs_per_edge"]) == pytest.approx(
        float(per_edge["epoch_ms"]) / float(adjacency["epoch_ms"]), abs=0.01)
    for row in (rows[0], rows[2]):  # the path training takes is also timed in a Lightning run
        assert float(row["trainer_epoch_ms"]) > 0
        assert float(row["loop_overhead_ms"]) == pytest.approx(float(row["trainer_epoch_ms"]) - float(row["epoch_ms"]),
                                                               abs=0.3)
    assert "| recipe | path | epochs/s |" in done.stdout


@pytest.mark.slow
def test_quick_pairs_run_matches_the_per_graph_reference_and_trains_both_recipes(tmp_path, peptides_root):
    done, rows = _quick_run("pairs", tmp_path, "--root", str(peptides_root))
    assert list(rows[0]) == PAIRS_COLUMNS
    precompute = [row for row in rows if row["part"].startswith("precompute")]
    assert [row["method"] for row in precompute] == ["per-graph dense", "ours", "ours-workers2"]
    assert all(row["status"] == "ok" and row["graph_set"] == "peptides-func" for row in precompute)
    assert all(float(row["max_abs_diff"]) < 1e-5 for row in precompute[1:])
    training = {row["method"]: row for row in rows if row["part"] == "training"}
    assert set(training) == {"peptides-func-gps", "peptides-func-grit"}
    for row in training.values():
        assert float(row["seconds"]) > 0 and float(row["peak_mib"]) > 0 and math.isfinite(float(row["memory_ratio"]))
    assert "| part | graphs | method |" in done.stdout


def test_per_graph_rrwp_reference_equals_the_precompute():
    from conftest import random_graph

    graph = random_graph(11, edge_prob=0.2, seed=5)
    index, values = per_graph_rrwp(graph, 6)
    stored = graph.clone()
    encode_pairs([stored], [RRWP(6)])
    assert torch.equal(stored.rrwp_index, index)
    torch.testing.assert_close(stored.rrwp_attr, values)


@pytest.mark.slow
def test_quick_device_check_trains_every_section_and_writes_its_report(tmp_path):
    done = subprocess.run([sys.executable, "-m", "graphformers.bench", "device", "--quick", "--minutes", "4",
                           "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "device.md").read_text()
    for heading in ("## Parts", "## Model: ours against PyG's GPSConv", "## Recipe: epochs in the remaining time"):
        assert heading in report
    with (tmp_path / "device-parts.csv").open() as file:
        parts = list(csv.DictReader(file))
    measured = [row for row in parts if row["status"] == "ok"]
    assert {row["precision"] for row in measured} == {"32-true", "bf16-mixed"}
    assert all(row["status"] == "ok" or row["status"].startswith("skipped: the parts section's time") for row in parts)
    assert all(float(row["max_difference"]) < 0.05 and math.isfinite(float(row["last_loss"])) for row in measured)
    with (tmp_path / "device-model.csv").open() as file:
        ours = [row for row in csv.DictReader(file) if row["implementation"] == "ours"]
    assert [(row["precision"], row["status"]) for row in ours] == [("32-true", "ok"), ("bf16-mixed", "ok")]
    with (tmp_path / "device-recipe.csv").open() as file:
        epochs = list(csv.DictReader(file))
    assert epochs and all(row["status"] == "ok" and 0 <= float(row["value"]) <= 1 for row in epochs)
    assert [int(row["epoch"]) for row in epochs] == list(range(len(epochs)))
    assert "epochs of quickstart.yaml would take about" in report
