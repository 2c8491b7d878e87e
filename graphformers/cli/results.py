"""``graphformers results table [--check]`` regenerates the reproduction tables of ``recipes/README.md``
and ``docs/results.md``;
``graphformers results publish runs/<name>`` files a multi-run's summary under
``recipes/results/<name>/`` and regenerates the table."""
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
        publish = actions.add_parser("publish",
                                     help="copy a multi-run's summary to <recipes>/results/<name>/, then regenerate")
        publish.add_argument("run_dir", type=Path, help="the multi-run folder, runs/<name>")
        for action in (table, publish):
            action.add_argument("--recipes", type=Path, default=DEFAULT_RECIPES,
                                help="the recipes folder (default: %(default)s)")

    def run(self, args: argparse.Namespace) -> int:
        """Exit 0, or 1 when ``--check`` finds a table out of date."""
        from graphformers.io import atomic_write_text
        from graphformers.results.publishing import publish, table_readmes
        from graphformers.results.table import render, updated_readme

        if args.action == "publish":
            target = publish(args.run_dir, args.recipes)
            print(f"published {args.run_dir} to {target}")
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
