"""The contract of a subcommand of ``graphformers``: a name, a one-line help, its arguments and
what it runs. Each module of :mod:`graphformers.cli` (but this one and :mod:`~graphformers.cli.entry`)
defines one subclass and an instance of it named ``COMMAND``; :mod:`graphformers.cli.entry` finds them,
so a new subcommand is one new module here."""
from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, NoReturn


class CommandParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` (and its sub-command parsers) whose usage errors are one line:
    ``error: PROG: MESSAGE (see PROG --help)``, exit status 2 (argparse alone prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


class Command(ABC):
    """One subcommand: ``graphformers NAME ...`` (and ``python -m graphformers.MODULE ...``).

    A command's module imports only what its arguments need; what it runs is imported inside
    :meth:`run`, so ``graphformers --help`` and a mistyped option cost no training library.
    :meth:`run` raises :class:`~graphformers.errors.GraphformersError` for a problem the user can
    fix: :func:`graphformers.cli.entry.main` prints it as one ``error:`` line and exits 2.
    """

    name: ClassVar[str]
    """The word after ``graphformers``."""
    help: ClassVar[str]
    """One line for ``graphformers --help``."""
    intermixed: ClassVar[bool] = False
    """Whether options may come between the positional words (``argparse``'s intermixed parsing)."""

    @abstractmethod
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's arguments on ``parser``."""

    @abstractmethod
    def run(self, args: argparse.Namespace) -> int:
        """Do the work; the exit status. ``args.words`` holds the command's own words as given."""

    def prepare(self, words: Sequence[str]) -> list[str]:
        """The words to parse, given the command's words (default: as they are)."""
        return list(words)


def add_recipe_arguments(parser: argparse.ArgumentParser, overrides_help: str) -> None:
    """The two positional words of a command that runs a recipe: its path and dotted overrides.

    Args:
        parser (ArgumentParser): the command's parser.
        overrides_help (str): what the overrides do for this command.
    """
    parser.add_argument("recipe", help="path to a recipe YAML file")
    parser.add_argument("overrides", nargs="*", help=overrides_help)
