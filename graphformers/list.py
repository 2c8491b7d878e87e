"""``graphformers list [KIND [NAME]]`` (also ``python -m graphformers.list``): every registered part
by kind, with a one-line description and its origin (built in, or the plugin module that
registered it); with a kind and a name, that part's options with types, defaults and docs, read
from the same signature the recipe validator checks options against."""
from __future__ import annotations

import inspect
import re
import sys
from typing import Optional, Sequence

from graphformers.command_line import CommandParser
from graphformers.errors import GraphformersError
from graphformers.options import PartOption
from graphformers.recipe.convert import type_name
from graphformers.registry import (
    DATASETS,
    FEATURE_ENCODERS,
    LOCAL_BLOCKS,
    MIXERS,
    MODELS,
    PAIR_ENCODINGS,
    POSITIONAL_ENCODERS,
    REGISTRIES,
    Entry,
    Registry,
)

KINDS: dict[str, Registry] = {"model": MODELS, "local": LOCAL_BLOCKS, "mixer": MIXERS, "encoder": POSITIONAL_ENCODERS,
                              "pair": PAIR_ENCODINGS, "feature": FEATURE_ENCODERS, "dataset": DATASETS}
"""What ``graphformers list KIND`` accepts (the recipe key's word for each kind)."""


def origin(entry: Entry) -> str:
    """``built-in`` for this package's parts, else ``plugin <module>``."""
    return "built-in" if entry.built_in else f"plugin {entry.origin}"


def list_parts(registries: Sequence[Registry] = REGISTRIES) -> str:
    """The listing: one block per kind, one line per part.

    Args:
        registries (sequence of Registry, optional): the kinds to list (default: all).
    """
    lines = []
    width = max(len(entry.name) for registry in registries for entry in registry.entries())
    for registry in registries:
        lines.append(f"{registry.kind}s:")
        lines += [f"  {e.name:<{width}} {e.description}  [{origin(e)}]" for e in registry.entries()]
    return "\n".join(lines)


def _option_line(option: PartOption) -> str:
    kind = type_name(option.annotation) if option.annotation is not None else "any"
    default = "required" if option.required else f"default {option.default!r}"
    doc = re.sub(r"\s*\(default: [^)]*\)\s*$", "", option.doc)  # the default is shown already
    doc = f"  {doc}" if doc else ""
    return f"  {option.name} ({kind}, {default}){doc}"


def describe_part(registry: Registry, name: str) -> str:
    """One part: its description, origin, recipe options (type, default, doc) and the arguments
    the toolkit supplies itself.

    Args:
        registry (Registry): the part's kind.
        name (str): the registered name.
    """
    entry = registry.entry(name)
    summary = inspect.getdoc(entry.constructor) or ""
    summary = summary.split("\n\n")[0].replace("\n", " ")
    lines = [f"{registry.kind} {name} [{origin(entry)}]", f"  {summary}" if summary else "", "options:"]
    options = registry.options(name)
    lines += [_option_line(option) for option in options] or ["  (none)"]
    if registry.supplied:
        lines.append(f"supplied by the toolkit: {', '.join(registry.supplied)}")
    return "\n".join(line for line in lines if line)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """List every part, one kind, or one part's options; an unknown kind or name prints one ``error:`` line."""
    parser = CommandParser(prog="graphformers list", description="Registered parts and their options.")
    parser.add_argument("kind", nargs="?", choices=sorted(KINDS), help="one kind of part")
    parser.add_argument("name", nargs="?", help="one part: print its options")
    args = parser.parse_args(argv)
    try:
        if args.name:
            print(describe_part(KINDS[args.kind], args.name))
        else:
            print(list_parts([KINDS[args.kind]] if args.kind else REGISTRIES))
    except GraphformersError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
