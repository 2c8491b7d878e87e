"""Every recipe key with its default and meaning, as commented YAML (``graphformers reference``),
generated from the schema in :mod:`graphformers.recipe.schema` (the attribute docstrings of its
dataclasses) and the built-in registered parts. The recipe reference of docs/recipes.md is this output; a
test keeps the two identical."""
from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import typing
from typing import Any

import yaml

from graphformers.recipe import schema
from graphformers.registry import REGISTRIES, Registry

COMMENT_COLUMN = 32


def attribute_docs(cls: type) -> dict[str, str]:
    """``{field: docstring}`` from the string literal under each annotated attribute of ``cls`` (its
    lines joined into one)."""
    body = ast.parse(inspect.getsource(cls)).body[0].body
    docs = {}
    for statement, following in itertools.pairwise(body):
        if (isinstance(statement, ast.AnnAssign) and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant) and isinstance(following.value.value, str)):
            docs[statement.target.id] = " ".join(following.value.value.split())
    return docs


def _built_in(registry: Registry) -> list[str]:
    return [entry.name for entry in registry.entries() if entry.built_in]


def _choices() -> dict[str, list[str]]:
    """Registered built-in names for the keys that name parts (each kind's ``recipe_keys``)."""
    return {key: _built_in(registry) for registry in REGISTRIES for key in registry.recipe_keys}


def _value(value: Any) -> str:
    if isinstance(value, schema.PartSpec):
        return value.name
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("...").strip()


def _line(indent: str, key: str, value: str, comment: str) -> str:
    text = f"{indent}{key}: {value}"
    return f"{text:<{COMMENT_COLUMN - 1}} # {comment}"


def _fields(cls: type, indent: str, section: str, choices: dict[str, list[str]]) -> list[str]:
    docs, defaults = attribute_docs(cls), cls()
    hints = typing.get_type_hints(cls)
    lines = []
    for field in dataclasses.fields(cls):
        comment = docs[field.name]
        options = choices.get(f"{section}{field.name}")
        if options and hints[field.name] == schema.PartSpec | None:
            options = [*options, schema.NO_PART]  # the part may be left out
        if typing.get_origin(hints[field.name]) is typing.Literal:
            options = list(typing.get_args(hints[field.name]))
        if options:
            comment += f" ({' | '.join(options)})"
        lines.append(_line(indent, field.name, _value(getattr(defaults, field.name)), comment))
    return lines


def reference_yaml() -> str:
    """The commented YAML reference of every key (defaults as values)."""
    choices = _choices()
    recipe_docs = attribute_docs(schema.Recipe)
    lines = [_line("", "extends", "null",
                   "a recipe to start from (path relative to this file); this file's keys override it")]
    defaults = schema.Recipe()
    lines += [_line("", name, _value(getattr(defaults, name)), recipe_docs[name]) for name in ("name", "imports")]
    for section, cls in (("model", schema.ModelConfig), ("data", schema.DataConfig), ("train", schema.TrainConfig)):
        lines.append(f"{section}:")
        lines += _fields(cls, "  ", f"{section}.", choices)
    return "\n".join(lines)
