"""Recipes: the schema (:mod:`~graphformers.recipe.schema`), loading with ``extends`` and overrides
(:mod:`~graphformers.recipe.loading`), type conversion (:mod:`~graphformers.recipe.convert`) and
checks (:mod:`~graphformers.recipe.checks`).

The schema is plain dataclasses; loading (which checks parts against the registries, and so imports
torch) is imported on first use of ``load_recipe`` or ``recipe_from_dict``, so that reading the schema
or its conversions (the command line's ``--help``, ``graphformers list``) stays quick."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from graphformers.recipe.schema import (
    NO_PART,
    DataConfig,
    ModelConfig,
    PartSpec,
    PublishedResult,
    Recipe,
    RecipeError,
    TrainConfig,
    is_absent,
)

if TYPE_CHECKING:
    from graphformers.recipe.loading import load_recipe, recipe_from_dict

_LOADING = ("load_recipe", "recipe_from_dict")


def __getattr__(name: str) -> Any:
    if name in _LOADING:
        return getattr(importlib.import_module("graphformers.recipe.loading"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["NO_PART", "DataConfig", "ModelConfig", "PartSpec", "PublishedResult", "Recipe", "RecipeError",
           "TrainConfig",
           "is_absent", "load_recipe", "recipe_from_dict"]
