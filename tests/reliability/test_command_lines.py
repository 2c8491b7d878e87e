"""Every command, given bad arguments: one ``error:`` line and exit status 2, never a traceback or
a page of usage (a table of cases per entry point, each failing before any work starts)."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = str(REPO / "recipes" / "quickstart.yaml")
MISSING = "no/such/file.yaml"

CASES = {
    "graphformers.train": [
        [], ["--bogus", QUICKSTART], [MISSING], [QUICKSTART, "model.layers"], [QUICKSTART, "model.layers=two"],
        [QUICKSTART, "--seeds", "3-1"], [QUICKSTART, "--seeds", "x"], [QUICKSTART, "--resume", "no/such.ckpt"],
    ],
    "graphformers.predict": [
        [], ["only-one-argument"], ["no/such.ckpt", "test"], ["no/such.ckpt", "test", "--batch-size", "x"],
    ],
    "graphformers.sweep": [
        [], [MISSING, "--space", MISSING], [QUICKSTART, "--space", MISSING], [QUICKSTART, "--trials", "x"],
    ],
    "graphformers.list": [["nosuchkind"], ["mixer", "nosuchmixer"], ["mixer", "full", "extra"]],
    "graphformers.bench": [
        [], ["nosuchsuite"], ["step", "--sets", "nosuchset"], ["step", "--precisions", "17-bits"],
        ["model", "--batches", "nosuchbatches"], ["model", "--mixers", "exphormer"], ["model", "--precision", "bf17-mixed"],
        ["scaling", "--mixers", "nosuchmixer"],
        ["step", "--repeats", "x"], ["scaling", "--sizes", "ten"], ["encoders", "--large-sizes", "0"],
    ],
    "graphformers.results": [[], ["nosuchcommand"], ["publish", "no/such/folder"], ["table", "--bogus"]],
    "graphformers.data": [[], ["place"], ["place", "nosuchdataset", "."], ["place", "zinc", "no/such/folder"]],
    "graphformers.cli": [[], ["nosuchcommand"], ["train"], ["list", "nosuchkind"]],
}


def _main(module: str):
    loaded = importlib.import_module(module if module != "graphformers.results" and module != "graphformers.data"
                                     else f"{module}.__main__")
    return loaded.main


@pytest.mark.parametrize("module, argv", [(module, argv) for module, cases in CASES.items() for argv in cases],
                         ids=lambda value: value if isinstance(value, str) else " ".join(value) or "(none)")
def test_bad_arguments_are_one_error_line_and_exit_status_2(module, argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing a case might write lands in the repository
    try:
        status = _main(module)(list(argv))
    except SystemExit as exit:
        status = exit.code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2, (status, captured.err)
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err + captured.out
