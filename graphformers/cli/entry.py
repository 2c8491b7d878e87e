"""``graphformers COMMAND ...``: one entry point for every command, and the one place that turns a
user's error into one ``error:`` line and exit status 2. The commands are the modules of this
package (each defines ``COMMAND``, a :class:`~graphformers.cli.base.Command`)."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from functools import cache

from graphformers.cli.base import Command, CommandParser
from graphformers.errors import GraphformersError
from graphformers.training.quiet import quiet_libraries

NOT_COMMANDS = ("base", "entry")
"""The modules of this package that define no command."""


@cache
def commands() -> dict[str, Command]:
    """Every subcommand by name, from the modules of :mod:`graphformers.cli`."""
    package = importlib.import_module("graphformers.cli")
    found = {}
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in NOT_COMMANDS:
            command = importlib.import_module(f"graphformers.cli.{module.name}").COMMAND
            found[command.name] = command
    return dict(sorted(found.items()))


def _top_parser() -> CommandParser:
    listing = "\n".join(f"  {name:<10} {command.help}" for name, command in commands().items())
    parser = CommandParser(prog="graphformers", description="Graph transformers from recipes.",
                           epilog=f"commands:\n{listing}\n\n'graphformers COMMAND --help' gives a command's options.",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=list(commands()), metavar="COMMAND", help="a command (below)")
    return parser


def parse_command(argv: Sequence[str], prog: str | None = None) -> tuple[Command, argparse.Namespace]:
    """The command ``argv`` names and its parsed arguments (``args.words``: its words as given).

    Args:
        argv (sequence of str): the command's name, then its words.
        prog (str, optional): the program name in usage and errors (default: ``graphformers NAME``).
    """
    words = list(argv)
    name = _top_parser().parse_args(words[:1]).command
    command = commands()[name]
    parser = CommandParser(prog=prog or f"graphformers {name}", description=command.help)
    command.add_arguments(parser)
    given = command.prepare(words[1:])
    args = parser.parse_intermixed_args(given) if command.intermixed else parser.parse_args(given)
    args.words = words[1:]
    return command, args


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run one command; an error meant for the user prints one ``error:`` line and returns 2. The command
    runs inside :func:`~graphformers.training.quiet.quiet_libraries`.

    Args:
        argv (sequence of str, optional): the command's name and words (default: ``sys.argv[1:]``).
        prog (str, optional): how the command was called, for usage and errors (default: ``graphformers NAME``).
    """
    try:
        command, args = parse_command(sys.argv[1:] if argv is None else argv, prog)
        with quiet_libraries():
            return command.run(args)
    except GraphformersError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def module_main(name: str, module: str) -> int:
    """What ``python -m graphformers.MODULE`` runs: the command ``name`` with the process's arguments."""
    return main([name, *sys.argv[1:]], prog=f"python -m graphformers.{module}")
