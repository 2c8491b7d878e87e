"""Recipes: the schema (:mod:`~graphformers.recipe.schema`), loading with ``extends`` and overrides
(:mod:`~graphformers.recipe.loading`), type conversion (:mod:`~graphformers.recipe.convert`) and
checks (:mod:`~graphformers.recipe.checks`)."""
from graphformers.recipe.loading import load_recipe, recipe_from_dict
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

__all__ = ["NO_PART", "DataConfig", "ModelConfig", "PartSpec", "PublishedResult", "Recipe", "RecipeError",
           "TrainConfig",
           "is_absent", "load_recipe", "recipe_from_dict"]
