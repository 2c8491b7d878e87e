"""``graphformers list [KIND [NAME]]``: every registered part
by kind, with a one-line description and its origin (built in, or the plugin module that
registered it); with a kind and a name, that part's options with types, defaults and docs, read
from the same signature the recipe validator checks options against."""
from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Sequence

from graphformers.cli.base import Command
from graphformers.options import PartOption
from graphformers.recipe.convert import type_name
from graphformers.registry import REGISTRIES, Entry, Registry

KINDS: dict[str, Registry] = {registry.word: registry for registry in REGISTRIES}
"""What ``graphformers list KIND`` accepts: each kind's word (:data:`~graphformers.registry.REGISTRIES`)."""


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


def decorator_name(registry: Registry) -> str:
    """The name of the decorator that registers parts of this kind (``register_mixer``)."""
    import graphformers.registry as module

    return next(name for name, value in vars(module).items()
                if name.startswith("register_") and value == registry.register)


def kinds_table(registries: Sequence[Registry] = REGISTRIES) -> str:
    """The kinds of part as a Markdown table (the README's and docs/extending.md's), from the registries: each kind's
    contract, decorator, recipe keys, the arguments the toolkit supplies, and its built-in parts."""
    lines = ["| kind | base class (the contract) | register with | recipe key | the toolkit passes | `graphformers "
             "list` | built in |",
             "|---|---|---|---|---|---|---|"]
    for registry in registries:
        base = registry.base
        keys = " / ".join(f"`{key}`" for key in registry.recipe_keys) or "—"
        built_in = ", ".join(entry.name for entry in registry.entries() if entry.built_in)
        arguments = ", ".join(inspect.signature(registry.register).parameters)
        lines.append(f"| {registry.kind} | `{base.__module__}.{base.__qualname__}` | "
                     f"`@{decorator_name(registry)}({arguments})` "
                     f"| {keys} | {', '.join(registry.supplied) or 'nothing'} | `{registry.word}` | {built_in} |")
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


class List(Command):
    """List every part, one kind, or one part's options."""

    name = "list"
    help = "list the registered parts by kind, or one part's options"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("kind", nargs="?", choices=sorted(KINDS), help="one kind of part")
        parser.add_argument("name", nargs="?", help="one part: print its options")
        parser.add_argument("--markdown", action="store_true", help="the kinds of part as a Markdown table")

    def run(self, args: argparse.Namespace) -> int:
        if args.markdown:
            print(kinds_table([KINDS[args.kind]] if args.kind else REGISTRIES))
        elif args.name:
            print(describe_part(KINDS[args.kind], args.name))
        else:
            print(list_parts([KINDS[args.kind]] if args.kind else REGISTRIES))
        return 0


COMMAND = List()
