"""Raw YAML values -> the schema's types: each value checked (and, where lossless, converted)
against its annotation, with the file or override it came from in every message."""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from graphformers.recipe.origins import source
from graphformers.recipe.schema import PartSpec, RecipeError


def build(cls: type, raw: Any, prefix: str, origins: Mapping[str, str]) -> Any:
    """An instance of the schema dataclass ``cls`` from the mapping ``raw`` (keys under ``prefix``);
    unknown keys get a did-you-mean."""
    where = prefix.rstrip(".") or "recipe"
    if not isinstance(raw, dict):
        raise RecipeError(f"{source(origins, where)}: {where!r} must be a mapping, got {raw!r}.")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    values = {}
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" Did you mean '{prefix}{close[0]}'?" if close else ""
            raise RecipeError(
                f"{source(origins, dotted)}: unknown key {dotted!r}.{hint} Known keys in {where!r}: {', '.join(known)}."
            )
        values[key] = convert(hints[key], value, dotted, origins)
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [name for name in required if name not in values]
    if missing:
        raise RecipeError(f"{source(origins, where)}: {where!r} needs {', '.join(repr(name) for name in missing)} "
                          f"(no default); its keys: {', '.join(known)}.")
    return cls(**values)


UNIONS = (Union, types.UnionType)
"""``Optional[X]`` / ``Union[X, Y]`` and ``X | None`` / ``X | Y``: the two spellings of a union."""


def type_name(annotation: Any) -> str:
    """How an annotation reads in messages and listings (``int``, ``'sym' | 'rw'``, ...)."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return " | ".join(repr(choice) for choice in typing.get_args(annotation))
    if origin in UNIONS:
        return " or ".join(type_name(arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return "null"
    if annotation is PartSpec:
        return "a part name or {name: ..., <options>}"
    if origin is list:
        return f"a list of ({type_name(typing.get_args(annotation)[0])})"
    if origin is tuple:
        items = typing.get_args(annotation)
        return f"a list of {len(items)} ({', '.join(map(type_name, items))})"
    if origin is not None:
        return str(annotation).replace("typing.", "")
    return annotation.__name__


def convert(annotation: Any, value: Any, dotted: str, origins: Mapping[str, str]) -> Any:
    """``value`` checked (and, where lossless, converted) against ``annotation``."""
    origin = typing.get_origin(annotation)

    def wrong() -> RecipeError:
        return RecipeError(
            f"{source(origins, dotted)}: {dotted!r} must be {type_name(annotation)}, "
            f"got {type(value).__name__} {value!r}."
        )

    if origin in UNIONS:
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        inner = [arg for arg in args if arg is not type(None)]
        if len(inner) == 1 and dataclasses.is_dataclass(inner[0]) and isinstance(value, dict):
            return convert(inner[0], value, dotted, origins)  # its own message names the key at fault
        for arg in inner:
            try:
                return convert(arg, value, dotted, origins)
            except RecipeError:
                continue
        raise wrong()
    if origin is Literal:
        choices = typing.get_args(annotation)
        if value in choices:
            return value
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise RecipeError(f"{wrong()}{hint}")
    if origin is list:
        if not isinstance(value, list):
            raise wrong()
        (item_type,) = typing.get_args(annotation)
        return [convert(item_type, item, f"{dotted}[{i}]", origins) for i, item in enumerate(value)]
    if origin is tuple:  # a fixed number of items; kept a list, as YAML writes it back
        items = typing.get_args(annotation)
        if not isinstance(value, (list, tuple)) or len(value) != len(items):
            raise wrong()
        return [convert(item_type, item, f"{dotted}[{i}]", origins)
                for i, (item_type, item) in enumerate(zip(items, value, strict=True))]
    if origin is dict:
        if not isinstance(value, dict):
            raise wrong()
        return dict(value)
    if annotation is PartSpec:
        if isinstance(value, str):
            return PartSpec(value)
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            options = {k: v for k, v in value.items() if k != "name"}
            return PartSpec(value["name"], options)
        raise wrong()
    if dataclasses.is_dataclass(annotation):
        return build(annotation, value, dotted + ".", origins)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise wrong()
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise wrong()
    if annotation is float:
        # YAML 1.1 reads "1e-3" as a string; accept any numeral.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise wrong() from None
        raise wrong()
    if annotation is str:
        if isinstance(value, str):
            return value
        raise wrong()
    raise TypeError(f"recipe schema uses an unsupported annotation {annotation!r}")
