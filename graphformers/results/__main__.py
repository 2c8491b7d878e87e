"""``python -m graphformers.results table [--check]`` regenerates the reproduction table of
``recipes/README.md``; ``python -m graphformers.results publish runs/<name>`` files a multi-run's
summary under ``recipes/results/<name>/`` and regenerates the table."""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Optional, Sequence

from graphformers.command_line import CommandParser
from graphformers.errors import GraphformersError
from graphformers.io import atomic_write_text
from graphformers.results.summary import RECIPE_FILE, SUMMARY_CSV, SUMMARY_MD
from graphformers.results.table import BEGIN, RESULTS_DIR, render, updated_readme

DEFAULT_RECIPES = Path("recipes")


def build_parser() -> argparse.ArgumentParser:
    """The two commands and their options."""
    parser = CommandParser(prog="python -m graphformers.results", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    table = commands.add_parser("table", help="regenerate the reproduction table of <recipes>/README.md")
    table.add_argument("--check", action="store_true", help="only check that it is current (exit 1 if not)")
    publish = commands.add_parser("publish", help="copy a multi-run's summary to <recipes>/results/<name>/, then regenerate")
    publish.add_argument("run_dir", type=Path, help="the multi-run folder, runs/<name>")
    for command in (table, publish):
        command.add_argument("--recipes", type=Path, default=DEFAULT_RECIPES, help="the recipes folder (default: %(default)s)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; problems are one ``error:`` line and exit 2, a stale table with ``--check`` exit 1."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "publish":
            _publish(args.run_dir, args.recipes)
        current = {readme: updated_readme(readme, render(args.recipes, measured_only))
                   for readme, measured_only in _readmes(args.recipes)}
    except (GraphformersError, ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "table" and args.check:
        stale = [str(readme) for readme, text in current.items() if text != readme.read_text(encoding="utf-8")]
        if stale:
            print(f"error: the reproduction table of {', '.join(stale)} is not current; run python -m "
                  f"graphformers.results table", file=sys.stderr)
            return 1
        return 0
    for readme, text in current.items():
        atomic_write_text(readme, text)
        print(f"wrote the reproduction table of {readme}")
    return 0


def _readmes(recipes: Path) -> list[tuple[Path, bool]]:
    """``(file, measured rows only)`` to update: the recipes' README (every recipe) and, when it
    has the table's markers, the project README beside the recipes folder (the measured ones)."""
    readmes = [(recipes / "README.md", False)]
    project = recipes.resolve().parent / "README.md"
    if project.is_file() and BEGIN in project.read_text(encoding="utf-8"):
        readmes.append((project, True))
    return readmes


def _publish(run_dir: Path, recipes: Path) -> None:
    """Copy the multi-run's ledger, summary and recipe to ``recipes/results/<folder name>/``."""
    missing = [name for name in (SUMMARY_CSV, SUMMARY_MD, RECIPE_FILE) if not (run_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{run_dir} is not a multi-run folder (missing {', '.join(missing)}); give runs/<name> "
                                f"of a run started with --seeds or --splits.")
    if not (recipes / f"{run_dir.name}.yaml").is_file():
        raise FileNotFoundError(f"no recipe {recipes / (run_dir.name + '.yaml')} for the multi-run {run_dir}; results "
                                f"are filed under the recipe of the same name.")
    target = recipes / RESULTS_DIR / run_dir.name
    target.mkdir(parents=True, exist_ok=True)
    for name in (SUMMARY_CSV, SUMMARY_MD, RECIPE_FILE):
        shutil.copyfile(run_dir / name, target / name)
    print(f"published {run_dir} to {target}")


if __name__ == "__main__":
    sys.exit(main())
