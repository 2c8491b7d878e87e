"""Every command, given bad arguments: one ``error:`` line and exit status 2, never a traceback or
a page of usage (a table of cases per command, each failing before any work starts)."""
from __future__ import annotations

import subprocess
import sys

import pytest
from helpers.paths import QUICKSTART

from graphformers.cli import main as cli
from graphformers.cli.entry import commands

MISSING = "no/such/file.yaml"

CASES = {
    "train": [
        [], ["--bogus", QUICKSTART], [MISSING], [QUICKSTART, "model.layers"], [QUICKSTART, "model.layers=two"],
        [QUICKSTART, "--seeds", "3-1"], [QUICKSTART, "--seeds", "x"], [QUICKSTART, "--resume", "no/such.ckpt"],
    ],
    "predict": [
        [], ["only-one-argument"], ["no/such.ckpt", "test"], ["no/such.ckpt", "test", "--batch-size", "x"],
    ],
    "sweep": [
        [], [MISSING, "--space", MISSING], [QUICKSTART, "--space", MISSING], [QUICKSTART, "--trials", "x"],
    ],
    "list": [["nosuchkind"], ["mixer", "nosuchmixer"], ["mixer", "full", "extra"]],
    "bench": [
        [], ["nosuchsuite"], ["step", "--sets", "nosuchset"], ["step", "--precisions", "17-bits"],
        ["model", "--batches", "nosuchbatches"], ["model", "--mixers", "nosuchmixer"],
              ["model", "--precision", "bf17-mixed"],
        ["scaling", "--mixers", "nosuchmixer"],
        ["step", "--repeats", "x"], ["scaling", "--sizes", "ten"], ["encoders", "--large-sizes", "0"],
    ],
    "results": [[], ["nosuchcommand"], ["publish", "no/such/folder"], ["table", "--bogus"]],
    "data": [[], ["place"], ["place", "nosuchdataset", "."], ["place", "zinc", "no/such/folder"]],
    "reference": [["extra"]],
    "": [[], ["nosuchcommand"], ["--bogus"]],  # graphformers itself
}


def _cases() -> list[tuple[str, list[str]]]:
    """Every case above, and an unknown option for every command (a new command is covered without a line here)."""
    return [(command, argv) for command, cases in CASES.items() for argv in cases] + \
        [(command, ["--no-such-option"]) for command in commands()]


@pytest.mark.parametrize("command, argv", _cases(),
                         ids=lambda value: value if isinstance(value, str) else " ".join(value) or "(none)")
def test_bad_arguments_are_one_error_line_and_exit_status_2(command, argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing a case might write lands in the repository
    try:
        status = cli([command, *argv] if command else list(argv))
    except SystemExit as exit:
        status = exit.code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2, (status, captured.err)
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err + captured.out


@pytest.mark.parametrize("module, command", [("train", "train"), ("list", "list"), ("recipe_reference", "reference"),
                                             pytest.param("data", "data", marks=pytest.mark.slow),  # imports torch
                                             ("results", "results"), ("bench", "bench")])
def test_the_python_m_forms_are_the_commands(module, command):
    """``python -m graphformers.MODULE --help`` is ``graphformers COMMAND --help`` (but for the name in its usage
    lines)."""
    shim = subprocess.run([sys.executable, "-m", f"graphformers.{module}", "--help"], capture_output=True, text=True)
    console = subprocess.run([sys.executable, "-m", "graphformers", command, "--help"], capture_output=True, text=True)
    assert shim.returncode == console.returncode == 0, shim.stderr + console.stderr
    assert shim.stdout.startswith(f"usage: python -m graphformers.{module} ")
    assert shim.stdout.split("\n\n", 1)[1] == console.stdout.split("\n\n", 1)[1]
