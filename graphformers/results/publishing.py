"""Filing a multi-run's summary beside its recipe, and the READMEs that carry the reproduction table."""
from __future__ import annotations

import shutil
from pathlib import Path

from graphformers.results.summary import RECIPE_FILE, SUMMARY_CSV, SUMMARY_MD
from graphformers.results.table import BEGIN, RESULTS_DIR, ResultsError

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


def publish(run_dir: Path, recipes: Path) -> Path:
    """Copy the multi-run's ledger, summary and recipe to ``recipes/results/<folder name>/``; that folder.

    Args:
        run_dir (Path): the multi-run folder, ``runs/<name>``.
        recipes (Path): the recipes folder, which must hold ``<name>.yaml``.
    """
    missing = [name for name in PUBLISHED_FILES if not (run_dir / name).is_file()]
    if missing:
        raise ResultsError(f"{run_dir} is not a multi-run folder (missing {', '.join(missing)}); give runs/<name> "
                           f"of a run started with --seeds or --splits.")
    if not (recipes / f"{run_dir.name}.yaml").is_file():
        raise ResultsError(f"no recipe {recipes / (run_dir.name + '.yaml')} for the multi-run {run_dir}; results "
                           f"are filed under the recipe of the same name.")
    target = recipes / RESULTS_DIR / run_dir.name
    target.mkdir(parents=True, exist_ok=True)
    for name in PUBLISHED_FILES:
        shutil.copyfile(run_dir / name, target / name)
    return target
