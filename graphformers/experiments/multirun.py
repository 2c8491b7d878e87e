"""Several runs of one recipe, one per seed and official split (``--seeds 0-3``, ``--splits 0-9``),
each its own version under ``runs/<name>/``, summarised in ``summary.csv`` / ``summary.md``.

The ledger ``summary.csv`` is rewritten after every run starts and ends, so an interrupted
multi-run continues with ``--resume``: finished and failed runs are not redone, and the run that
was interrupted resumes from its ``last.ckpt``.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import itertools
import math
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
import yaml

from graphformers.errors import GraphformersError, first_line
from graphformers.experiments.parallel_runs import OUTPUT_LOG, PlannedRun, run_in_processes
from graphformers.io import atomic_write_text
from graphformers.metrics import higher_is_better as metric_higher_is_better
from graphformers.recipe import Recipe, RecipeError
from graphformers.recipe.changes import changed_settings
from graphformers.registry import DATASETS
from graphformers.results.summary import (
    MACHINE_SEPARATOR,
    RECIPE_FILE,
    SUMMARY_CSV,
    SUMMARY_MD,
    RunRecord,
    about,
    aggregate,
    comparison,
    finished,
    machines,
    read_records,
    save_record,
    write_markdown,
)
from graphformers.training.hardware import describe_device, device_type
from graphformers.training.runner import LAST, TrainingInterrupted, next_version, run
from graphformers.yaml_text import read_yaml


class MultiRunError(GraphformersError, ValueError):
    """``--seeds`` / ``--splits`` that cannot be run, or a multi-run folder that does not fit the command."""


def parse_indices(text: str, option: str) -> list[int]:
    """``"0,1,2"``, ``"0-9"`` or ``"0-3,7"`` -> the listed whole numbers, in order, each once.

    Args:
        text (str): the option's value.
        option (str): ``--seeds`` or ``--splits``, for messages.
    """
    values: list[int] = []
    for item in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", item)
        if not match:
            raise MultiRunError(f"{option} {text!r}: {item.strip()!r} is not a whole number or a range a-b; write e.g. "
                                f"{option} 0,1,2 or {option} 0-4.")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise MultiRunError(f"{option} {text!r}: the range {item.strip()} runs backwards; write {last}-{first}.")
        values.extend(range(first, last + 1))
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise MultiRunError(f"{option} {text!r} lists {', '.join(map(str, repeated))} more than once; list each once.")
    return values


def plan_runs(recipe: Recipe, seeds: Sequence[int] | None,
              splits: Sequence[int] | None) -> list[tuple[int, int | None]]:
    """Every ``(seed, split)`` to run: all seeds x all splits (the recipe's own seed or split where
    one option is not given). Raises :class:`MultiRunError` for splits the dataset does not ship and
    for multi-process settings.

    Args:
        recipe (Recipe): the base recipe.
        seeds (sequence of int, optional): ``--seeds``; None: ``train.seed``.
        splits (sequence of int, optional): ``--splits``; None: ``data.options.split`` if the dataset has splits.
    """
    spec = DATASETS.get(recipe.data.name)
    if splits is not None:
        if spec.num_splits == 1:
            raise MultiRunError(f"--splits: {recipe.data.name!r} ships one official split, so there is none to "
                                f"choose; use --seeds for repeated runs.")
        outside = [split for split in splits if split >= spec.num_splits]
        if outside:
            raise MultiRunError(f"--splits: {recipe.data.name!r} has official splits 0 to {spec.num_splits - 1}; "
                                f"{', '.join(map(str, outside))} lie beyond them.")
    elif spec.num_splits > 1:
        splits = [recipe.data.options.get("split", 0)]
    train = recipe.train
    if train.devices == "auto" or train.devices * train.num_nodes > 1:
        raise MultiRunError(f"--seeds / --splits run one process per run, but train.devices={train.devices!r} and "
                            f"train.num_nodes={train.num_nodes} ask for several; set train.devices=1 (or run each "
                            f"seed as its own command).")
    return list(itertools.product(seeds if seeds is not None else [train.seed],
                                  splits if splits is not None else [None]))


def variant(recipe: Recipe, seed: int, split: int | None, out_dir: Path) -> Recipe:
    """``recipe`` with ``train.seed`` / ``data.options.split`` set and writing under ``out_dir``."""
    options = dict(recipe.data.options, **({"split": split} if split is not None else {}))
    return dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, seed=seed, out_dir=str(out_dir)),
                               data=dataclasses.replace(recipe.data, options=options))


@dataclass
class MultiRunResult:
    """Where the summary is and what it says."""

    out_dir: Path
    records: list[RunRecord]
    line: str
    """measured test mean ± std beside the published result"""


class LedgerClock(pl.Callback):
    """Keeps a run's ``wall_seconds`` in the ledger current at the end of every training epoch, so that a
    run resumed after an interruption reports the time of all its parts: the earlier ones' (as the
    ledger last recorded them, at their last epoch's end, the epoch a resume starts after) plus its own.

    Args:
        record (RunRecord): the run's ledger entry, updated in place.
        save (callable): writes the ledger.
        earlier_seconds (float): the wall time of the run's earlier parts (0 for a fresh run).
    """

    def __init__(self, record: RunRecord, save: Callable[[], None], earlier_seconds: float = 0.0) -> None:
        self.record, self.save, self.earlier = record, save, earlier_seconds
        self.started = time.perf_counter()

    def stamp(self) -> None:
        """Set the record's ``wall_seconds`` to the time so far."""
        self.record.wall_seconds = round(self.earlier + time.perf_counter() - self.started, 1)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.stamp()
        if trainer.is_global_zero:
            self.save()


def run_many(recipe: Recipe, seeds: Sequence[int] | None, splits: Sequence[int] | None, resume: bool,
             command: str, report: Callable[[str], None] = print, jobs: int = 1) -> MultiRunResult:
    """Run every ``(seed, split)`` of :func:`plan_runs` and keep ``summary.csv`` / ``summary.md`` current.

    Args:
        recipe (Recipe): the base recipe (its seed and split are replaced per run).
        seeds (sequence of int, optional): ``--seeds``.
        splits (sequence of int, optional): ``--splits``.
        resume (bool): continue the multi-run in the recipe's folder (an error if there is none);
            without it, a folder that already holds one is an error.
        command (str): the command line, written into ``summary.md``.
        report (callable, optional): receives one line per finished run, with the runs left and the time
            they would take at the finished runs' mean time (each run's whole time, across resumes).
        jobs (int, optional): runs that train at once, each in its own process on its share of the
            CPUs (:mod:`~graphformers.experiments.parallel_runs`; ``--jobs``). (default: :obj:`1`)
    """
    plan = plan_runs(recipe, seeds, splits)
    check_jobs(recipe, jobs)
    out_dir = Path(recipe.train.out_dir or Path("runs") / recipe.name)
    ledger = out_dir / SUMMARY_CSV
    known = {record.key: record for record in _open_ledger(recipe, out_dir, resume)}
    todo = [(number, seed, split) for number, (seed, split) in enumerate(plan, start=1)
            if known.get((seed, split)) is None or known[(seed, split)].status == "running"]
    higher_is_better = metric_higher_is_better(next((r.metric for r in known.values() if r.metric), ""))

    def begin(number: int, seed: int, split: int | None) -> PlannedRun:
        previous = known.get((seed, split))
        last = out_dir / previous.run / "checkpoints" / LAST if previous else None
        resume_from = str(last) if last is not None and last.is_file() else None
        run_dir = out_dir / previous.run if resume_from else next_version(out_dir)
        run_dir.mkdir(parents=True, exist_ok=True)  # taken now: the next run started gets the next version
        record = RunRecord(run=run_dir.name, seed=seed, split=split, status="running",
                           hardware=previous.hardware if resume_from and previous else "")  # with train_one's
        save_record(ledger, record)
        earlier = (previous.wall_seconds or 0.0) if resume_from and previous else 0.0
        if jobs > 1 and len(todo) > 1:  # its console output goes to a file: say which
            report(f"run {number}/{len(plan)} (seed {seed}{_split_text(split)}) "
                   f"{'resumes' if resume_from else 'starts'}: {run_dir / OUTPUT_LOG}")
        return PlannedRun(variant(recipe, seed, split, out_dir), resume_from, run_dir, record, earlier)

    concluded = 0

    def conclude(number: int, record: RunRecord) -> None:
        nonlocal higher_is_better, concluded
        save_record(ledger, record)
        if record.status == "finished":
            higher_is_better = metric_higher_is_better(record.metric)
        write_markdown(out_dir / SUMMARY_MD, recipe.name, read_records(ledger), recipe.published, higher_is_better,
                       command)
        outcome = (f"test {record.metric}: {record.test:.4f}" if record.status == "finished"
                   else f"failed: {record.error}")
        concluded += 1
        left = len(todo) - concluded
        # the finished runs' whole times (a resumed run's earlier parts included), not this invocation's pace
        times = [done.wall_seconds for done in finished(read_records(ledger)) if done.wall_seconds]
        mean = statistics.fmean(times) if times else None
        pace = (f"; {left} left, about {about(mean * math.ceil(left / jobs))} at {about(mean)} a run"
                + (f", {jobs} at once" if jobs > 1 else "")) if left and mean else ""
        report(f"run {number}/{len(plan)} (seed {record.seed}{_split_text(record.split)}, {record.run}): {outcome} "
               f"({record.wall_seconds:.0f} s{pace})")

    if jobs > 1 and len(todo) > 1:
        run_in_processes(todo, begin, train_one, conclude, jobs, ledger)
    else:
        for number, seed, split in todo:
            conclude(number, train_one(begin(number, seed, split), ledger))
    records = read_records(ledger)
    write_markdown(out_dir / SUMMARY_MD, recipe.name, records, recipe.published, higher_is_better, command)
    line = comparison(aggregate([r.test for r in finished(records)]), recipe.published, higher_is_better)
    return MultiRunResult(out_dir, records, line)


def train_one(planned: PlannedRun, ledger: Path) -> RunRecord:
    """Train a planned run, keeping its wall time in the ledger, and fill its ledger row: finished with
    its scores, or failed with the error's first line (the other runs still run). A recipe error or an
    interruption is raised.

    Args:
        planned (PlannedRun): the run.
        ledger (Path): the multi-run's ``summary.csv``.
    """
    record = planned.record
    clock = LedgerClock(record, functools.partial(save_record, ledger, record), planned.earlier)
    # here, where a run in its own process has its share of the threads; a run resumed elsewhere names both machines
    here = describe_device(planned.recipe.train.accelerator)
    record.hardware = MACHINE_SEPARATOR.join(machines(record.hardware, here))
    try:
        result = run(planned.recipe, resume=planned.resume_from,
                     run_dir=None if planned.resume_from else planned.run_dir, callbacks=[clock])
    except (RecipeError, TrainingInterrupted):
        raise
    except (GraphformersError, RuntimeError) as error:  # this run failed; the others still run
        record.status, record.error = "failed", first_line(error)[:300]
    else:
        record.status, record.metric, record.best_epoch = "finished", result.metric, result.best_epoch
        record.val, record.test, record.parameters = result.val_value, result.test_value, result.parameters
    clock.stamp()
    return record


def check_jobs(recipe: Recipe, jobs: int) -> None:
    """``--jobs``: a whole number of runs at once, on the CPU (runs sharing one GPU would contend for
    its memory: run them one after another, or one multi-run per GPU)."""
    if jobs < 1:
        raise MultiRunError(f"--jobs {jobs}: give how many runs train at once, 1 or more.")
    if jobs > 1 and device_type(recipe.train.accelerator) != "cpu":
        raise MultiRunError(f"--jobs {jobs} trains runs side by side on the CPU's cores, but this recipe trains on "
                            f"{device_type(recipe.train.accelerator)}; drop --jobs, or set train.accelerator=cpu.")


def _open_ledger(recipe: Recipe, out_dir: Path, resume: bool) -> list[RunRecord]:
    """The runs so far; on a fresh start writes the base recipe next to the ledger, on resume
    checks that the recipe is the one the multi-run started with."""
    ledger, saved = out_dir / SUMMARY_CSV, out_dir / RECIPE_FILE
    base = comparable_recipe(recipe)
    if not resume:
        if ledger.is_file():
            done = len(finished(read_records(ledger)))
            raise MultiRunError(f"{out_dir} already holds a multi-run ({done} finished run(s)); continue it with "
                                f"--resume, or start another under a new name (name=... or train.out_dir=...).")
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(saved, yaml.safe_dump(base, sort_keys=False))
        return []
    if not ledger.is_file():
        raise MultiRunError(f"--resume: no multi-run under {out_dir} (no {SUMMARY_CSV}); start it without --resume.")
    started_with = read_yaml(saved) if saved.is_file() else base
    changed = [f"{key}: {then!r} -> {now!r}" for key, now, then in changed_settings(base, started_with)]
    if changed:
        raise MultiRunError(f"--resume: the recipe differs from the one {out_dir} was started with "
                            f"({', '.join(changed)}); "
                            f"resume with the same recipe and overrides, or start a new multi-run under another name.")
    return read_records(ledger)


def comparable_recipe(recipe: Recipe) -> dict:
    """The recipe as plain data without what varies between the runs of one multi-run (the seed and
    the split): what ``recipe.yaml`` beside the ledger holds."""
    raw = copy.deepcopy(recipe.to_dict())
    raw["train"].pop("seed")
    raw["data"]["options"].pop("split", None)
    return raw


def _split_text(split: int | None) -> str:
    return f", split {split}" if split is not None else ""

