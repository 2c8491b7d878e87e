"""The argument parser of every graphformers command: a usage mistake is one ``error:`` line and
exit status 2, like every other error the commands report (argparse alone prints the whole usage
first)."""
from __future__ import annotations

import argparse
from typing import NoReturn


class CommandParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` (and its sub-command parsers) whose usage errors are one line:
    ``error: PROG: MESSAGE (see PROG --help)``, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")
