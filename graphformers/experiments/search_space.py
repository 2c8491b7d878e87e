"""A sweep's search space (``--space space.yaml``): recipe keys and the values a trial may give them.

.. code-block:: yaml

    model.hidden: {choices: [64, 128, 256]}
    train.lr: {low: 1.0e-4, high: 1.0e-2, log: true}
    model.layers: {low: 2, high: 8}            # whole numbers when both ends are
    model.dropout: {low: 0.0, high: 0.5, step: 0.1}
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphformers.errors import GraphformersError
from graphformers.recipe import RecipeError, load_recipe
from graphformers.yaml_text import read_yaml


class SearchSpaceError(GraphformersError, ValueError):
    """A search space that cannot be sampled, or names a key that is not a recipe key."""


@dataclass(frozen=True)
class Dimension:
    """One recipe key's values: ``choices``, or a range ``[low, high]`` (``log``-uniform, or in ``step``\\ s)."""

    key: str
    choices: tuple[Any, ...] | None = None
    low: int | float | None = None
    high: int | float | None = None
    log: bool = False
    step: int | float | None = None

    @property
    def whole(self) -> bool:
        """A range of whole numbers (both ends and any step are ints)."""
        return all(isinstance(v, int) and not isinstance(v, bool) for v in (self.low, self.high, self.step or 1))

    def suggest(self, trial: Any) -> Any:
        """The value an Optuna ``trial`` draws for this key."""
        if self.choices is not None:
            return trial.suggest_categorical(self.key, list(self.choices))
        if self.whole:
            return trial.suggest_int(self.key, self.low, self.high, step=self.step or 1, log=self.log)
        return trial.suggest_float(self.key, self.low, self.high, step=self.step, log=self.log)

    def examples(self) -> list[Any]:
        """Values a recipe must accept for this key (each choice; a range's ends)."""
        return list(self.choices) if self.choices is not None else [self.low, self.high]


def override(key: str, value: Any) -> str:
    """``key=value`` in the recipe override syntax (JSON is YAML for numbers, strings and lists)."""
    return f"{key}={json.dumps(value)}"


def _dimension(key: str, spec: Any, where: str) -> Dimension:
    if not isinstance(spec, dict) or not ({"choices"} <= spec.keys() or {"low", "high"} <= spec.keys()):
        raise SearchSpaceError(f"{where}: {key} must be {{choices: [...]}} or {{low: ..., high: ...}} (with optional "
                               f"log: true or step: ...), got {spec!r}.")
    unknown = set(spec) - {"choices", "low", "high", "log", "step"}
    if unknown:
        raise SearchSpaceError(f"{where}: {key} has unknown field(s) {', '.join(sorted(unknown))}; use choices, or "
                               f"low, high, log, step.")
    if "choices" in spec:
        if not isinstance(spec["choices"], list) or not spec["choices"]:
            raise SearchSpaceError(f"{where}: {key}.choices must be a non-empty list.")
        return Dimension(key, choices=tuple(spec["choices"]))
    low, high = spec["low"], spec["high"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)) or not low < high:
        raise SearchSpaceError(f"{where}: {key} needs numbers low < high, got low={low!r}, high={high!r}.")
    log, step = bool(spec.get("log", False)), spec.get("step")
    if log and (low <= 0 or step is not None):
        raise SearchSpaceError(f"{where}: {key}: a log range needs low > 0 and no step.")
    return Dimension(key, low=low, high=high, log=log, step=step)


def load_space(path: str | Path, recipe_path: str | Path, overrides: Sequence[str] = ()) -> list[Dimension]:
    """The dimensions of a search-space file, each key checked against the recipe: every choice (or
    both ends of a range) must load as an override of it, so a key that is not a recipe key gets
    the recipe's did-you-mean before any trial runs.

    Args:
        path (str or Path): the YAML search space.
        recipe_path (str or Path): the recipe swept.
        overrides (sequence of str): the command's fixed overrides.
    """
    path = Path(path)
    if not path.is_file():
        raise SearchSpaceError(f"--space {str(path)!r}: no such file.")
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict) or not raw:
        raise SearchSpaceError(f"{path}: a search space maps recipe keys to their values, e.g. train.lr: "
                               f"{{low: 1.0e-4, high: 1.0e-2, log: true}}.")
    dimensions = [_dimension(str(key), spec, str(path)) for key, spec in raw.items()]
    for dimension in dimensions:
        for value in dimension.examples():
            try:
                load_recipe(recipe_path, [*overrides, override(dimension.key, value)])
            except RecipeError as error:
                raise SearchSpaceError(f"{path}: {dimension.key}={value!r}: {str(error).split(': ', 1)[-1]}") from None
    return dimensions
