"""Random mutations of the shipped recipes (floats also written as YAML 1.1 reads strings, ``5e-1``):
each either loads and builds its model, or raises our
``RecipeError`` with a message (or, for a dataset whose task is known only once loaded, the
``PartOptionError`` the runner reports as one); never another exception type (hypothesis)."""
from __future__ import annotations

import copy
import math
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from graphformers.errors import PartOptionError
from graphformers.recipe import RecipeError, load_recipe
from graphformers.registry import DATASETS, MODELS
from graphformers.task import TaskInfo

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO / "recipes").glob("*.yaml"))
INFO = TaskInfo(level="graph", task="regression", num_outputs=1, metric="mae", node_encoder="linear", node_in=4,
                edge_encoder="linear", edge_in=2)
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                   st.text(max_size=12), st.lists(st.integers(-3, 3), max_size=3),
                   st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
                   st.sampled_from(["full", "gine", "lap", "ful", "none", "performer", "{name: gat}", "1e-3"]))


def _paths(tree: dict, prefix: tuple = ()) -> list[tuple]:
    paths = []
    for key, value in tree.items():
        paths.append(prefix + (key,))
        if isinstance(value, dict):
            paths += _paths(value, prefix + (key,))
    return paths


def _dotless(value: float) -> str:
    """``value`` in scientific notation without a decimal point (0.05 -> ``5e-2``), which YAML 1.1 reads as a string."""
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    return f"{'-' if sign else ''}{''.join(map(str, digits))}e{exponent}"


@st.composite
def mutated_recipes(draw) -> dict:
    path = draw(st.sampled_from(RECIPES))
    tree = yaml.safe_load(path.read_text())
    tree.pop("extends", None)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(tree)
        if not paths:
            break
        target = draw(st.sampled_from(paths))
        parent = tree
        for key in target[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "rename", "add", "as written"]))
        if action == "as written":  # a float as people write it, 5e-1: YAML 1.1 reads that as a string
            value = parent[target[-1]]
            if isinstance(value, float) and math.isfinite(value) and value != 0:
                parent[target[-1]] = _dotless(value)
        elif action == "replace":
            parent[target[-1]] = draw(VALUES)
        elif action == "delete":
            parent.pop(target[-1], None)
        elif action == "rename":
            parent[str(target[-1])[:-1] or "x"] = parent.pop(target[-1])
        else:
            parent[draw(st.text(min_size=1, max_size=8))] = draw(VALUES)
    return copy.deepcopy(tree)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(tree=mutated_recipes())
def test_mutated_recipes_build_or_raise_recipe_error(tmp_path, tree):
    path = tmp_path / "mutated.yaml"
    path.write_text(yaml.safe_dump(tree))
    try:
        recipe = load_recipe(path)
    except RecipeError as error:
        assert str(error).strip()
        event("refused with RecipeError")
        return
    declared = DATASETS.get(recipe.data.name).task_info(recipe.data.options)
    try:
        model = MODELS.get(recipe.model.name)(recipe.model, declared or INFO)
    except PartOptionError as error:
        # a dataset whose task is known only once loaded: the runner reports this as a RecipeError
        assert declared is None and str(error).strip()
        event("refused when the data is loaded")
        return
    event("loaded and built")
    assert sum(p.numel() for p in model.parameters()) > 0
    assert math.isfinite(recipe.train.lr)
