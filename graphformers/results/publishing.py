"""Filing a multi-run's summary beside its recipe, and the READMEs that carry the reproduction table."""
from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Sequence
from pathlib import Path

from graphformers.metrics import higher_is_better
from graphformers.recipe import load_recipe
from graphformers.results.summary import (
    RECIPE_FILE,
    SUMMARY_CSV,
    SUMMARY_MD,
    RunRecord,
    ledger_row,
    read_records,
    write_markdown,
    write_records,
)
from graphformers.results.table import BEGIN, RESULTS_DIR, ResultsError, result_changes
from graphformers.yaml_text import read_yaml

PUBLISHED_FILES = (SUMMARY_CSV, SUMMARY_MD, RECIPE_FILE)
"""What a multi-run folder must hold to be published, and what is copied."""


def table_readmes(recipes: Path) -> list[tuple[Path, bool]]:
    """``(file, measured rows only)`` to update: the recipes' README (every recipe) and, when it
    has the table's markers, the documentation's results page beside the recipes folder
    (``docs/results.md``: the measured ones).

    Args:
        recipes (Path): the recipes folder.
    """
    if not (recipes / "README.md").is_file():
        raise ResultsError(f"{recipes / 'README.md'} does not exist; give the recipes folder with --recipes.")
    readmes = [(recipes / "README.md", False)]
    page = recipes.resolve().parent / "docs" / "results.md"
    if page.is_file() and BEGIN in page.read_text(encoding="utf-8"):
        readmes.append((page, True))
    return readmes


def publish(run_dirs: Sequence[Path], recipes: Path, add: bool = False) -> Path:
    """File multi-runs of one recipe under ``recipes/results/<name>/``: their ledgers merged, the
    recipe as run and a summary; that folder.

    Seeds of one recipe may run as several multi-runs (on several machines, or over sessions that
    cannot hold one run for long): each multi-run folder given adds its runs, and ``add`` keeps the
    runs already filed. They must have run the same recipe (settings that cannot change a result
    aside) and finished no seed (and split) twice; a finished run replaces an unfinished one. A folder
    filed before may be given again with ``add`` once its multi-run has gone on (``--resume``): the
    runs filed from it are kept once and its new ones added. With one folder and no ``add`` the
    folder's files are copied as they are.

    Args:
        run_dirs (sequence of Path): multi-run folders (``runs/<name>``) of the recipe ``<name>``.
        recipes (Path): the recipes folder, which must hold ``<name>.yaml``.
        add (bool, optional): keep the runs filed before and add these (default: replace them).
    """
    for run_dir in run_dirs:
        missing = [name for name in PUBLISHED_FILES if not (run_dir / name).is_file()]
        if missing:
            raise ResultsError(f"{run_dir} is not a multi-run folder (missing {', '.join(missing)}); give runs/<name> "
                               f"of a run started with --seeds or --splits.")
    names = {run_dir: read_yaml(run_dir / RECIPE_FILE).get("name") or run_dir.name for run_dir in run_dirs}
    name = names[run_dirs[0]]
    if not (recipes / f"{name}.yaml").is_file():
        raise ResultsError(f"no recipe {recipes / (name + '.yaml')} for the multi-run {run_dirs[0]}; results "
                           f"are filed under the recipe of the same name.")
    others = [str(run_dir) for run_dir, other in names.items() if other != name]
    if others:
        raise ResultsError(f"{', '.join(others)} ran another recipe than {name}; publish each recipe's runs apart.")
    target = recipes / RESULTS_DIR / name
    filed = target if add and (target / SUMMARY_CSV).is_file() else None
    if len(run_dirs) == 1 and filed is None:
        target.mkdir(parents=True, exist_ok=True)
        for file in PUBLISHED_FILES:
            shutil.copyfile(run_dirs[0] / file, target / file)
        return target
    sources = ([filed] if filed is not None else []) + list(run_dirs)
    _check_same_recipe(sources)
    records = _merged_records(sources, renamed=set(run_dirs))
    recipe = load_recipe(recipes / f"{name}.yaml")
    metric = next((record.metric for record in records if record.metric), "")
    # each command once (a folder given again ran the command filed with it)
    command = "; ".join(dict.fromkeys(part for source in sources for part in _command(source).split("; ")))
    target.mkdir(parents=True, exist_ok=True)
    if filed is None:
        shutil.copyfile(run_dirs[0] / RECIPE_FILE, target / RECIPE_FILE)
    write_records(target / SUMMARY_CSV, records)
    write_markdown(target / SUMMARY_MD, name, records, recipe.published, higher_is_better(metric), command)
    return target


def _check_same_recipe(sources: Sequence[Path]) -> None:
    """Raise unless every source ran the first one's recipe (seed, split and bookkeeping aside)."""
    first = read_yaml(sources[0] / RECIPE_FILE)
    for source in sources[1:]:
        changes = [f"{key}: {old} -> {new}" for key, old, new in result_changes(first, read_yaml(source / RECIPE_FILE))]
        if changes:
            raise ResultsError(f"{source} ran another recipe than {sources[0]} ({'; '.join(changes)}); only runs of "
                               f"one recipe are filed together.")


def _merged_records(sources: Sequence[Path], renamed: set[Path]) -> list[RunRecord]:
    """Every source's ledger in turn; runs of the folders in ``renamed`` become ``<folder>/<run>``. A
    seed (and split) that did not finish in one source (running when it was filed, or failed) gives
    way to a finished run of it in another; a run filed before and given again (its folder added
    once more with ``add``) is the same run, kept once."""
    merged: dict[tuple[int, int | None], tuple[RunRecord, Path]] = {}
    for source in sources:
        for record in read_records(source / SUMMARY_CSV):
            names = {record.run, f"{source.name}/{record.run}"}  # as filed alone, and as filed beside others
            if source in renamed:
                record = dataclasses.replace(record, run=f"{source.name}/{record.run}")
            earlier = merged.get(record.key)
            if earlier is not None and earlier[0].run in names and _as_written(earlier[0]) == _as_written(record):
                continue
            if earlier is not None and earlier[0].status == "finished" and record.status == "finished":
                split = f", split {record.split}" if record.split is not None else ""
                raise ResultsError(f"seed {record.seed}{split} finished in both {earlier[1]} and {source}; file one "
                                   f"of them.")
            if earlier is None or earlier[0].status != "finished":
                merged[record.key] = (record, source)
    return [record for record, _ in merged.values()]


def _as_written(record: RunRecord) -> dict[str, str]:
    """A record's ledger row, its run's name aside (filing renames it)."""
    return {name: value for name, value in ledger_row(record).items() if name != "run"}


def _command(source: Path) -> str:
    """The command line a summary.md names (its first line in backticks)."""
    lines = (source / SUMMARY_MD).read_text(encoding="utf-8").splitlines()
    return next((line.strip("`") for line in lines if line.startswith("`")), str(source))
