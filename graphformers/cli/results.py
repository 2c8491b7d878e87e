"""``graphformers results table [--check]`` regenerates the reproduction tables of ``recipes/README.md``
and ``docs/results.md``;
``graphformers results publish runs/<name> [runs/<other> ...] [--add]`` files multi-runs' summaries
under ``recipes/results/<name>/`` (several of one recipe merged) and regenerates the table."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graphformers.cli.base import Command

DEFAULT_RECIPES = Path("recipes")


class Results(Command):
    """Regenerate (or check) the reproduction table; publish a multi-run first with ``publish``."""

    name = "results"
    help = "regenerate or check the reproduction table; publish a multi-run's summary"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{table,publish}")
        table = actions.add_parser("table", help="regenerate the reproduction table of <recipes>/README.md")
        table.add_argument("--check", action="store_true", help="only check that it is current (exit 1 if not)")
        publish = actions.add_parser("publish", help="file multi-runs' summaries under <recipes>/results/<name>/, "
                                                     "then regenerate")
        publish.add_argument("run_dirs", type=Path, nargs="+", metavar="run_dir",
                             help="a multi-run folder, runs/<name>; several of one recipe are merged (seeds run apart)")
        publish.add_argument("--add", action="store_true",
                             help="keep the runs already filed for the recipe and add these (seeds run over sessions)")
        for action in (table, publish):
            action.add_argument("--recipes", type=Path, default=DEFAULT_RECIPES,
                                help="the recipes folder (default: %(default)s)")

    def run(self, args: argparse.Namespace) -> int:
        """Exit 0, or 1 when ``--check`` finds a table out of date."""
        from graphformers.io import atomic_write_text
        from graphformers.results.publishing import publish, table_readmes
        from graphformers.results.table import render, updated_readme

        if args.action == "publish":
            target = publish(args.run_dirs, args.recipes, args.add)
            print(f"published {', '.join(map(str, args.run_dirs))} to {target}")
        current = {readme: updated_readme(readme, render(args.recipes, measured_only))
                   for readme, measured_only in table_readmes(args.recipes)}
        if args.action == "table" and args.check:
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


COMMAND = Results()
