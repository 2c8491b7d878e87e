"""The notebooks are committed without outputs (CI executes them through nbmake; see setup.cfg)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_the_three_tutorial_notebooks_exist():
    assert [path.stem for path in NOTEBOOKS] == ["01-quickstart", "02-write-a-plugin", "03-look-inside"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_outputs_are_stripped(path):
    cells = [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]
    assert cells and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in cells)
