"""Which settings of a saved recipe the current one sets otherwise (a resumed run, a ledger of
seeds and the results table each compare the recipe they are given with the one their runs had)."""
from __future__ import annotations

from typing import Any

from graphformers.registry import MODELS


def changed_settings(current: Any, saved: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """``(key, current value, saved value)`` for each setting of a saved recipe (the ``recipe.yaml``
    beside a ledger) that the current recipe sets otherwise. Keys the saved recipe lacks were added
    to the schema after it was written (its runs had their defaults) and are not compared, nor are
    ``model`` keys its model does not read (they cannot change a run).

    Args:
        current (dict): the recipe now, as plain data.
        saved (dict): the recipe as the runs had it.
        prefix (str, optional): dotted key of the parts compared, for recursion.
    """
    if not prefix and isinstance(current, dict) and isinstance(saved, dict):
        current, saved = _settings_read(current), _settings_read(saved)
    if isinstance(current, dict) and isinstance(saved, dict):
        return [change for key in sorted(saved, key=str)
                for change in changed_settings(current.get(key), saved[key], f"{prefix}{key}.")]
    return [] if current == saved else [(prefix.rstrip("."), current, saved)]


def _settings_read(recipe: dict[str, Any]) -> dict[str, Any]:
    """``recipe`` (plain data) without the ``model`` keys its model does not read."""
    model = recipe.get("model")
    if not isinstance(model, dict) or model.get("name") not in MODELS or MODELS.get(model["name"]).reads is None:
        return recipe
    read = ("name", "options", *MODELS.get(model["name"]).reads)
    return {**recipe, "model": {key: value for key, value in model.items() if key in read}}
