"""The ``step`` suite: seconds per training step of whole recipes on their real data, in each
precision, and side by side with an earlier commit of graphformers (``--against REV``).

Each measurement runs :mod:`~graphformers.benchmarks.step_worker` in a fresh process; the variants
(this checkout in each precision, the earlier commit in float32) take turns, their order rotating
with every repeat, so a drift in the machine's speed reaches all of them alike. The earlier commit
is unpacked with ``git archive`` into a temporary folder and the same worker file runs against it.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from tqdm import tqdm

from graphformers.resources import environment

COLUMNS = ["suite", "set", "recipe", "code", "precision", "batch_size", "nodes_per_batch", "seconds_per_step",
           "speedup", "fastest_seconds_per_step", "fastest_speedup", "speedup_of", "status", "device", "torch", "pyg",
           "threads", "commit"]
WORKER = Path(__file__).with_name("step_worker.py")
REPOSITORY = WORKER.resolve().parents[2]
SMILES_HIV = ("data.options={path: MoleculeNet/hiv/raw/HIV.csv, smiles: smiles, targets: [HIV_active], "
              "split: scaffold, skip_invalid: true}")
SETS = {
    "peptides-func": ("recipes/peptides-func-gps.yaml", []),
    "hiv": ("recipes/ogbg-molhiv-gps.yaml", ["data.name=smiles-csv", SMILES_HIV]),
    "peptides-func-grit": ("recipes/peptides-func-grit.yaml", []),
    "quickstart": ("recipes/quickstart.yaml", ["data.options={num_train: 32, num_val: 8, num_test: 8}"]),
}
"""Named step sets: a recipe and the overrides that point it at data found here (``hiv``: MoleculeNet's
HIV.csv under ``<data root>/MoleculeNet/hiv/raw/``, read by ``smiles-csv`` with OGB's scaffold split)."""
THIS = "this checkout"


class Variant(NamedTuple):
    """Which graphformers (this checkout, or a commit unpacked in ``tree``) runs, in which precision,
    with which extra recipe overrides."""

    code: str
    precision: str
    tree: Path | None
    overrides: tuple[str, ...] = ()


def run_step(sets: Sequence[str], precisions: Sequence[str], against: str | None, batches: int, batch_size: int,
             repeats: int, overrides: Sequence[str], root: str | None, compare: Sequence[str] = ()) -> list[dict]:
    """One row per (set, variant): the median seconds per step over ``repeats`` fresh processes, and
    the fastest process's (this machine's speed can differ by a third between processes a minute
    apart, each process running at one of two speeds: the fastest of several is the steadier figure).
    ``compare``: overrides each timed as one more variant of this checkout in float32 (``train.compile=true``)."""
    env, rows = environment("cpu"), []
    with tempfile.TemporaryDirectory() as scratch:
        variants = [Variant(THIS, precision, None) for precision in precisions]
        variants += [Variant(f"{THIS}, {override}", "32-true", None, (override,)) for override in compare]
        if against:
            variants.append(Variant(against, "32-true", _unpacked(against, Path(scratch))))
        runs = len(sets) * len(variants) * repeats
        with tqdm(total=runs, desc="step", unit="run") as progress:
            for name in sets:
                recipe, set_overrides = SETS[name]
                settings = [*set_overrides, f"data.batch_size={batch_size}", *overrides]
                settings += [f"data.root={Path(root).resolve()}"] if root else []
                results = {variant: [] for variant in variants}
                for repeat in range(repeats):
                    shift = repeat % len(variants)
                    for variant in variants[shift:] + variants[:shift]:
                        progress.set_postfix_str(f"{name}, {variant.code}, {variant.precision}")
                        results[variant].append(_worker(variant, recipe, settings, batches))
                        progress.update()
                rows.extend(_rows(name, recipe, batch_size, results, against, env))
    return rows


def _unpacked(revision: str, scratch: Path) -> Path:
    """The package at ``revision`` of this checkout's repository, unpacked under ``scratch``."""
    tree = scratch / "against"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(REPOSITORY), "archive", revision, "graphformers"], capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f"error: --against {revision}: git archive failed in {REPOSITORY} "
                         f"({archive.stderr.decode().strip()}); name a commit of this repository.")
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def _worker(variant: Variant, recipe: str, overrides: Sequence[str], batches: int) -> dict:
    """One measurement; the earlier commit's package is found first on the path (the worker's folder is not)."""
    code, precision, tree, extra = variant
    launcher = ("import runpy, sys; sys.path[0] = sys.argv.pop(1); sys.argv.pop(0); "
                "runpy.run_path(sys.argv[0], run_name='__main__')")
    command = [sys.executable, "-c", launcher, str(tree or REPOSITORY), str(WORKER), str(REPOSITORY / recipe),
               *overrides, *extra, "--batches", str(batches), "--precision", precision]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _rows(name: str, recipe: str, batch_size: int, results: dict, against: str | None, env: dict) -> list[dict]:
    medians, fastest = {}, {}
    rows = []
    for (code, precision, _, _), runs in results.items():
        row = {"suite": "step", "set": name, "recipe": recipe, "code": code, "precision": precision,
               "batch_size": batch_size, **env}
        failed = [run["error"] for run in runs if "error" in run]
        if failed:
            rows.append({**row, "status": f"failed: {failed[0]}"})
            continue
        per_process = [min(run["seconds_per_step"]) for run in runs]
        medians[(code, precision)], fastest[(code, precision)] = statistics.median(per_process), min(per_process)
        rows.append({**row, "status": "ok", "seconds_per_step": medians[(code, precision)],
                     "fastest_seconds_per_step": fastest[(code, precision)], "nodes_per_batch": runs[0]["nodes"]})
    reference = (against, "32-true") if against else (THIS, "32-true")
    for row in rows:
        if row["status"] == "ok" and reference in medians and (row["code"], row["precision"]) != reference:
            row["speedup"] = medians[reference] / row["seconds_per_step"]
            row["fastest_speedup"] = fastest[reference] / row["fastest_seconds_per_step"]
            row["speedup_of"] = f"{reference[0]} {reference[1]}"
    return rows


def markdown_table(rows: Sequence[dict]) -> str:
    """Seconds per training step per set and variant (median and fastest process), with the speed-ups
    over the reference variant."""
    lines = ["| set (recipe) | code | precision | nodes per batch | s per step (median) | speed-up (median) "
             "| s per step (fastest) | speed-up (fastest) | over |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        head = f"| {row['set']} ({row['recipe']}, batch {row['batch_size']}) | {row['code']} | {row['precision']} |"
        if row["status"] != "ok":
            lines.append(f"{head} | {row['status']} | | | | |")
            continue
        speedups = [f"{row[key]:.2f}x" if key in row else "1.00x" for key in ("speedup", "fastest_speedup")]
        over = row.get("speedup_of", "reference")
        lines.append(f"{head} {row['nodes_per_batch']:,.0f} | {row['seconds_per_step']:.3f} | {speedups[0]} | "
                     f"{row['fastest_seconds_per_step']:.3f} | {speedups[1]} | {over} |")
    return "\n".join(lines)
