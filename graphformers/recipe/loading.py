"""Reading a recipe: YAML files chained by ``extends``, dotted command-line overrides, the schema's
types, then every check (:mod:`graphformers.recipe.checks`).

A recipe file may name a base with ``extends: base.yaml`` (resolved next to the file); its keys
override the base's, nested mappings merge and lists replace. Dotted overrides
(``model.layers=6``) are applied last. Every message names the file (or override) the value came from.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from graphformers.recipe.checks import check_parts, check_recipe
from graphformers.recipe.convert import build
from graphformers.recipe.origins import record_origins, source
from graphformers.recipe.schema import Recipe, RecipeError
from graphformers.registry import MODELS
from graphformers.yaml_text import YamlError, parse_yaml, read_yaml


def load_recipe(path: str | Path, overrides: Sequence[str] = ()) -> Recipe:
    """Read ``path`` (following ``extends``), apply ``key=value`` overrides and validate.

    Args:
        path (str or Path): the recipe file.
        overrides (list of str, optional): dotted overrides, e.g. ``["model.layers=6"]``.
    """
    origins: dict[str, str] = {}
    raw = _read_with_bases(Path(path), origins, chain=())
    for override in overrides:
        _apply_override(raw, override, origins)
    recipe = build(Recipe, raw, "", origins)
    name_source = source(origins, "name")
    if name_source != str(path) and not name_source.startswith("command-line"):
        recipe.name = Path(path).stem  # a base recipe's name is not inherited
    import_user_modules(recipe.imports)
    check_recipe(recipe, origins)
    return recipe


def recipe_from_dict(raw: dict[str, Any]) -> Recipe:
    """A recipe from its :meth:`Recipe.to_dict` form (e.g. a checkpoint's hyperparameters);
    imports its ``imports`` so that plugin parts resolve, and converts part options as
    :func:`load_recipe` does (checkpoints written before options were converted hold ``5e-1`` strings).
    ``model`` keys its model does not read are set to their defaults (recipes saved before such keys
    were refused carry the old defaults ``local: gine`` and ``mixer: full`` for every model)."""
    recipe = build(Recipe, raw, "", {})
    import_user_modules(recipe.imports)
    check_parts(recipe, {})
    model_type = MODELS.get(recipe.model.name)
    recipe.model = model_type.resolved(model_type.without_unread(recipe.model))
    return recipe


def _read_with_bases(path: Path, origins: dict[str, str], chain: tuple[Path, ...]) -> dict[str, Any]:
    if not path.is_file():
        wanted_by = f"{chain[-1]}: extends" if chain else "Recipe file"
        raise RecipeError(f"{wanted_by} {str(path)!r} not found (looked for {path.resolve()}).")
    if path.resolve() in chain:
        raise RecipeError(f"{path}: 'extends' forms a cycle: {' -> '.join(map(str, chain + (path,)))}.")
    try:
        raw = read_yaml(path) or {}
    except YamlError as error:
        raise RecipeError(str(error)) from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: a recipe must be a mapping of sections, got {type(raw).__name__}.")
    base_name = raw.pop("extends", None)
    merged: dict[str, Any] = {}
    if base_name is not None:
        if not isinstance(base_name, str):
            raise RecipeError(f"{path}: 'extends' must be a file name, got {base_name!r}.")
        merged = _read_with_bases(path.parent / base_name, origins, chain + (path.resolve(),))
    record_origins(raw, "", str(path), origins)
    return _deep_merge(merged, raw)


def _deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _apply_override(raw: dict[str, Any], override: str, origins: dict[str, str]) -> None:
    key, sep, text = override.partition("=")
    if not sep or not key:
        raise RecipeError(f"Override {override!r} must look like section.key=value (e.g. model.layers=6).")
    try:
        value = parse_yaml(text, f"Override {override!r}: its value")
    except YamlError as error:
        raise RecipeError(str(error)) from None
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise RecipeError(f"Override {override!r}: {part!r} is not a section.")
    node[leaf] = value
    origins[key] = f"command-line override {override!r}"


def import_user_modules(modules: Sequence[str]) -> None:
    """Import the recipe's ``imports`` (modules that register parts)."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise RecipeError(f"imports: cannot import {module!r}: {error}. "
                              f"Is it installed or on PYTHONPATH?") from None
