"""A part's options, read once from its constructor: names, types, defaults and the documentation
in its ``Args:`` docstring section. The recipe validator checks options against this, and
``graphformers list <kind> <name>`` prints it, so the two cannot disagree."""
from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

REQUIRED = inspect.Parameter.empty
"""The default of an option that has none (it must be given)."""

_ARG_LINE = re.compile(r"^(\s*)(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")


@dataclass(frozen=True)
class PartOption:
    """One constructor option: its ``name``, type ``annotation`` (None if unannotated), ``default``
    (:data:`REQUIRED` if none) and ``doc`` (its ``Args:`` entry, empty if undocumented)."""

    name: str
    annotation: Any
    default: Any
    doc: str

    @property
    def required(self) -> bool:
        """Whether the option has no default."""
        return self.default is REQUIRED


def args_section(doc: str | None) -> dict[str, str]:
    """``{argument: description}`` from the ``Args:`` section of a PyG-style docstring.

    Args:
        doc (str, optional): the docstring (as :func:`inspect.getdoc` returns it).
    """
    lines = (doc or "").splitlines()
    if "Args:" not in (line.strip() for line in lines):
        return {}
    start = [line.strip() for line in lines].index("Args:") + 1
    described: dict[str, str] = {}
    current, indent = None, None
    for line in lines[start:]:
        if not line.strip():
            continue
        match = _ARG_LINE.match(line)
        depth = len(line) - len(line.lstrip())
        if indent is None:
            indent = depth
        if depth < indent:
            break
        if depth == indent and match:
            current = match.group(2).lstrip("*")
            described[current] = match.group(4).strip()
        elif current is not None:
            described[current] += " " + line.strip()
    return described


def part_options(constructor: Callable[..., Any], supplied: Collection[str] = ()) -> list[PartOption]:
    """The options a recipe may set on a part built by ``constructor`` (a class or a function),
    leaving out the arguments the toolkit passes itself (``supplied``, e.g. ``hidden``).

    Args:
        constructor (callable): the part's class (its ``__init__`` is read) or factory function.
        supplied (collection of str, optional): argument names the toolkit fills in.
    """
    function = _called(constructor)
    signature = inspect.signature(function)
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError):  # annotations naming what this module cannot import: no types
        hints = {}
    docs = args_section(inspect.getdoc(constructor))
    return [PartOption(name, hints.get(name), parameter.default, docs.get(name, ""))
            for name, parameter in signature.parameters.items()
            if name not in supplied and name != "self"
            and parameter.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]


def accepts_any_option(constructor: Callable[..., Any]) -> bool:
    """Whether ``constructor`` takes ``**kwargs`` (then every option name is accepted).

    Args:
        constructor (callable): the part's class or factory function.
    """
    parameters = inspect.signature(_called(constructor)).parameters.values()
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _called(constructor: Callable[..., Any]) -> Callable[..., Any]:
    """What a call of ``constructor`` runs: a class's ``__init__``, or the function itself."""
    return constructor.__init__ if isinstance(constructor, type) else constructor
