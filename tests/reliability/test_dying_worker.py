"""A DataLoader worker that dies is reported with what to do, not hung on."""
from __future__ import annotations

from pathlib import Path

import pytest

from graphformers.recipe import load_recipe
from graphformers.registry import DATASETS
from graphformers.training.runner import DataLoaderWorkerError, run


def test_a_killed_loader_worker_is_reported_with_the_fix(tmp_path, helper_module):
    helper_module(Path(__file__).with_name("dying_worker_parts.py"), DATASETS)
    recipe_file = tmp_path / "dying.yaml"
    recipe_file.write_text(
        "imports: [dying_worker_parts]\nmodel: {hidden: 16, layers: 1}\n"
        "data: {name: dying-worker, batch_size: 4, num_workers: 1}\n"
        f"train: {{max_epochs: 1, out_dir: {tmp_path / 'runs'}, progress_bar: false}}\n")
    # PyTorch words it "exited unexpectedly" or "is killed by signal", depending on which check sees it first
    with pytest.raises(DataLoaderWorkerError, match=r"DataLoader worker \(pid.*(exited unexpectedly|killed by signal)"
                                                    r".*A data-loading worker process died.*lower data.num_workers "
                                                    r"or data.batch_size"):
        run(load_recipe(recipe_file))
