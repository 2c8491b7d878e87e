"""A multi-run's ledger and summary: one row per seed or split in ``summary.csv``, the mean ± sample
standard deviation of each metric over the finished runs (as papers report them), and
``summary.md`` with the published result beside the measured one."""
from __future__ import annotations

import csv
import dataclasses
import io
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from graphformers.io import atomic_write_text, exclusive
from graphformers.recipe import PublishedResult

Status = Literal["running", "finished", "failed"]
SUMMARY_CSV, SUMMARY_MD = "summary.csv", "summary.md"
RECIPE_FILE = "recipe.yaml"
"""the base recipe of a multi-run as it ran (overrides applied), beside its ledger"""


@dataclass
class RunRecord:
    """One run of a multi-run: which seed and split, how it ended, its best epoch's validation metric,
    the test metric of that checkpoint, wall time, parameter count and where it ran."""

    run: str
    """the run's directory under the multi-run folder (``version_<n>``)"""
    seed: int
    split: int | None
    """the dataset's official split (``data.options.split``); None for datasets with one split"""
    status: Status
    metric: str = ""
    best_epoch: int | None = None
    val: float | None = None
    test: float | None = None
    wall_seconds: float | None = None
    parameters: int | None = None
    hardware: str = ""
    """where it trained (:func:`machines`: each machine of a run resumed on another, separated by ``"; "``)"""
    error: str = ""

    @property
    def key(self) -> tuple[int, int | None]:
        """``(seed, split)``: what identifies a run within its multi-run."""
        return self.seed, self.split


MACHINE_SEPARATOR = "; "
"""Between the machines of :attr:`RunRecord.hardware` and of a results table's hardware cell."""


def machines(*descriptions: str) -> list[str]:
    """Each machine named in ``descriptions`` (hardware texts of runs), once, in the order first named."""
    named = (machine for text in descriptions for machine in text.split(MACHINE_SEPARATOR) if machine)
    return list(dict.fromkeys(named))


FIELDS = [field.name for field in dataclasses.fields(RunRecord)]
_OPTIONAL_TYPES = {"split": int, "best_epoch": int, "val": float, "test": float, "wall_seconds": float,
                   "parameters": int}


def read_records(path: Path) -> list[RunRecord]:
    """The rows of a ``summary.csv`` (empty if the file does not exist)."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    records = []
    for row in rows:
        values = {name: (_OPTIONAL_TYPES[name](row[name]) if row[name] != "" else None)
                  if name in _OPTIONAL_TYPES else row[name] for name in FIELDS}
        values["seed"] = int(row["seed"])
        records.append(RunRecord(**values))
    return records


def write_records(path: Path, records: Sequence[RunRecord]) -> None:
    """Rewrite ``summary.csv`` atomically (a kill or a full disk mid-write leaves the previous ledger intact)."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, FIELDS)
    writer.writeheader()
    for record in records:
        writer.writerow(ledger_row(record))
    atomic_write_text(path, text.getvalue())


def save_record(path: Path, record: RunRecord) -> None:
    """Put ``record`` into the ledger at ``path`` in place of the row of its ``(seed, split)`` (or
    after the rows there), holding the ledger's lock: runs of one multi-run that train at once
    (``--jobs``) each keep their own row current without losing the others' updates.

    Args:
        path (Path): the ledger (``summary.csv``; created if missing).
        record (RunRecord): the run's row.
    """
    with exclusive(path.with_name(path.name + ".lock"), str(path)):
        records = read_records(path)
        keys = [kept.key for kept in records]
        if record.key in keys:
            records[keys.index(record.key)] = record
        else:
            records.append(record)
        write_records(path, records)


def ledger_row(record: RunRecord) -> dict[str, str]:
    """A record's fields as ``summary.csv`` holds them (None as an empty cell; NaN as ``nan``, equal to itself).

    Args:
        record (RunRecord): one run of the ledger.
    """
    return {name: "" if value is None else str(value) for name, value in dataclasses.asdict(record).items()}


@dataclass(frozen=True)
class Aggregate:
    """Mean and sample standard deviation (``n - 1`` in the denominator) of one metric over ``n`` runs;
    ``std`` is None for a single run."""

    mean: float
    std: float | None
    n: int

    def format(self, digits: int = 4) -> str:
        """``0.8975 ± 0.0052`` (``0.8975`` alone for one run)."""
        if self.std is None:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"


def aggregate(values: Sequence[float]) -> Aggregate | None:
    """Mean ± sample std of ``values`` (None when there are none).

    Args:
        values (sequence of float): one metric, one value per finished run.
    """
    if not values:
        return None
    if any(math.isnan(value) for value in values):  # a metric undefined in one run (statistics.stdev raises on NaN)
        return Aggregate(math.nan, math.nan if len(values) > 1 else None, len(values))
    return Aggregate(statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None, len(values))


def finished(records: Sequence[RunRecord]) -> list[RunRecord]:
    """The runs that count: finished, with a test value (failed and interrupted runs are left out)."""
    return [record for record in records if record.status == "finished" and record.test is not None]


def published_difference(measured: Aggregate, published: PublishedResult) -> float | None:
    """``(measured mean - published mean) / published std``: how many published standard deviations
    apart the two means are (None without a published std, or with a zero one)."""
    if not published.std:
        return None
    return (measured.mean - published.value) / published.std


def comparison(measured: Aggregate | None, published: PublishedResult | None, higher_is_better: bool) -> str:
    """One line: the measured test mean beside the published one and their difference in published stds."""
    if measured is None:
        return "no finished run yet"
    line = f"measured {measured.format()} (n = {measured.n})"
    if published is None:
        return line
    line += f"; published {published.value:.4f}" + (f" ± {published.std:.4f}" if published.std is not None else "")
    difference = published_difference(measured, published)
    if difference is not None:
        worse = difference < 0 if higher_is_better else difference > 0
        verdict = "worse" if worse and abs(difference) >= 0.05 else "not worse"
        line += f"; difference {difference:+.1f} published std ({verdict})"
    return line


def write_markdown(path: Path, name: str, records: Sequence[RunRecord], published: PublishedResult | None,
                   higher_is_better: bool, command: str) -> None:
    """``summary.md``: a table of every run, then mean ± sample std of the finished ones beside the
    published result.

    Args:
        path (Path): the file to write.
        name (str): the recipe's name.
        records (sequence of RunRecord): every run so far.
        published (PublishedResult, optional): the recipe's ``published:`` block.
        higher_is_better (bool): the metric's direction (for "worse" in the comparison).
        command (str): the command that produced the runs.
    """
    done = finished(records)
    metric = next((record.metric for record in records if record.metric), "metric")
    lines = [f"# {name}", "", f"`{command}`", "",
             f"| run | seed | split | status | best epoch | val {metric} | test {metric} | wall (s) | parameters | "
             f"hardware |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for record in records:
        cells = [record.run, record.seed, _cell(record.split),
                 record.status + (f": {record.error}" if record.error else ""),
                 _cell(record.best_epoch), _cell(record.val, 4), _cell(record.test, 4), _cell(record.wall_seconds, 0),
                 _cell(record.parameters), record.hardware]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    lines.append("")
    for label, values in (("val", [r.val for r in done if r.val is not None]), ("test", [r.test for r in done])):
        result = aggregate(values)
        if result is not None:
            lines.append(f"- {label} {metric}: {result.format()} (mean ± sample std over {result.n} finished runs)")
    lines.append(f"- test {metric}, against the published result: "
                 f"{comparison(aggregate([r.test for r in done]), published, higher_is_better)}")
    if published is not None:
        lines.append(f"- published: {published.source}; {published.protocol}")
    failed = [record for record in records if record.status == "failed"]
    if failed:
        lines.append(f"- {len(failed)} failed run(s), left out of the means")
    seconds = [r.wall_seconds for r in done if r.wall_seconds is not None]
    if seconds:
        mean = statistics.fmean(seconds)
        lines.append(f"- wall time per run: {mean:.0f} s on average" + (f", about {about(mean)}" if mean >= 60 else ""))
    atomic_write_text(path, "\n".join(lines) + "\n")


def about(seconds: float) -> str:
    """A duration as a person reads it: ``"40 s"``, ``"12 min"``, ``"6 h 40 min"``."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{seconds:.0f} s"
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def _cell(value: object, digits: int | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if digits is not None and isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)
