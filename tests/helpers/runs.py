"""Small runs of the quickstart recipe, and what the command line says when it refuses one."""
from __future__ import annotations

import pytest

from graphformers.cli import main as cli


def small_quickstart(num_train: int = 64, num_val: int = 32, num_test: int = 32, *overrides: str) -> list[str]:
    """Overrides that make the quickstart a run of seconds: fewer relay graphs, one layer, no progress bar.

    Args:
        num_train (int, optional): training graphs.
        num_val (int, optional): validation graphs.
        num_test (int, optional): test graphs.
        *overrides (str): more dotted overrides, applied after these.
    """
    return [f"data.options={{num_train: {num_train}, num_val: {num_val}, num_test: {num_test}}}",
            "train.progress_bar=false", "model.layers=1", *overrides]


def error_line(capsys: pytest.CaptureFixture) -> str:
    """The one line the command printed to stderr, which must start with ``error:``."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def refused_training(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    """``graphformers train ARGV`` must exit 2 with one ``error:`` line; that line."""
    assert cli(["train", *argv]) == 2
    return error_line(capsys)
