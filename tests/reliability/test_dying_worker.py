"""A DataLoader worker that dies is reported with what to do, not hung on."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from graphformers.recipe import load_recipe
from graphformers.registry import DATASETS
from graphformers.training.runner import DataLoaderWorkerError, run


@pytest.fixture(autouse=True)
def importable(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setattr(DATASETS, "_entries", dict(DATASETS._entries))
    monkeypatch.delitem(sys.modules, "dying_worker_parts", raising=False)
    yield
    sys.modules.pop("dying_worker_parts", None)


def test_a_killed_loader_worker_is_reported_with_the_fix(tmp_path):
    recipe_file = tmp_path / "dying.yaml"
    recipe_file.write_text(
        "imports: [dying_worker_parts]\n"
        "model: {hidden: 16, layers: 1}\n"
        "data: {name: dying-worker, batch_size: 4, num_workers: 1}\n"
        f"train: {{max_epochs: 1, out_dir: {tmp_path / 'runs'}, progress_bar: false}}\n")
    with pytest.raises(DataLoaderWorkerError, match=r"DataLoader worker .* exited unexpectedly.*lower "
                                                    r"data.num_workers or data.batch_size"):
        run(load_recipe(recipe_file))
