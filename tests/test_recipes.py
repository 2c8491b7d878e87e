"""Every shipped recipe loads, builds with the parameter count recipes/README.md's generated table
shows, and trains for two batches wherever its data is available offline."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from graphformers.data.datamodule import load_split_dataset
from graphformers.recipe import load_recipe
from graphformers.registry import DATASETS, MODELS
from graphformers.training.runner import run

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"
RECIPES = sorted(path.name for path in RECIPES_DIR.glob("*.yaml"))
NODE_DATASETS = {"minesweeper", "tolokers", "cora", "citeseer"}
OFFLINE = {"relay", "peptides-func"} | NODE_DATASETS
"""Datasets whose data CI has: generated, or real raw files in ../shared/data."""
NO_OFFLINE_DATA = {"peptides-struct", "zinc", "ogbg-molhiv", "ogbg-molpcba", "pascalvoc-sp", "coco-sp", "ogbn-arxiv",
                   "ogbn-products", "pcqm-contact",
                   "ogbg-code2"}
"""Datasets without offline raw files (recipes/README.md says so); their loaders are tested on format-true files."""


def _documented_parameters() -> dict[str, int]:
    table = (RECIPES_DIR / "README.md").read_text()
    rows = re.findall(r"^\| `([\w.-]+\.yaml)` \| [^|]+ \| [^|]+ \| ([\d,]+) \|", table, re.M)
    return {name: int(count.replace(",", "")) for name, count in rows}


def _task_info(recipe):
    """The declared task; for generated datasets also checked against what loading them gives."""
    spec = DATASETS.get(recipe.data.name)
    info = spec.task_info(recipe.data.options)
    if spec.offline:
        assert load_split_dataset(recipe.data).info == info
    return info


def test_every_recipe_is_documented_and_every_dataset_is_accounted_for():
    assert sorted(_documented_parameters()) == RECIPES
    datasets = {load_recipe(RECIPES_DIR / name).data.name for name in RECIPES}
    assert datasets <= OFFLINE | NO_OFFLINE_DATA, datasets - OFFLINE - NO_OFFLINE_DATA


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_builds_with_its_documented_parameter_count(name):
    recipe = load_recipe(RECIPES_DIR / name)
    model = MODELS.get(recipe.model.name)(recipe.model, _task_info(recipe))
    assert sum(p.numel() for p in model.parameters()) == _documented_parameters()[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in RECIPES if load_recipe(RECIPES_DIR / n).data.name in OFFLINE])
def test_recipe_trains_for_two_batches(name, tmp_path, request):
    overrides = ["train.max_epochs=1", "train.limit_batches=2", "train.progress_bar=false",
                 f"train.out_dir={tmp_path / 'runs'}"]
    dataset = load_recipe(RECIPES_DIR / name).data.name
    if dataset == "peptides-func":  # 4 graphs a batch: GRIT's steps on all node pairs are seconds each on a CPU
        overrides += [f"data.root={request.getfixturevalue('peptides_root')}", "data.batch_size=4"]
    if dataset in NODE_DATASETS:  # full-batch on one graph: hidden 16 keeps tolokers' million edges quick
        overrides += [f"data.root={request.getfixturevalue('node_data_root')}", "model.hidden=16"]
    result = run(load_recipe(RECIPES_DIR / name, overrides))
    assert math.isfinite(result.test_value) and result.last_checkpoint.is_file()
