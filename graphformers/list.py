"""``python -m graphformers.list`` (also ``graphformers list``): every registered part by kind, with
a one-line description and its origin (built in, or the plugin module that registered it)."""
from __future__ import annotations

from graphformers.registry import DATASETS, ENCODERS, LOCAL_BLOCKS, MIXERS, MODELS, Entry


def origin(entry: Entry) -> str:
    """``built-in`` for this package's parts, else ``plugin <module>``."""
    return "built-in" if entry.origin.split(".")[0] == "graphformers" else f"plugin {entry.origin}"


def list_parts() -> str:
    """The listing: one block per kind, one line per part."""
    lines = []
    registries = (MODELS, LOCAL_BLOCKS, MIXERS, ENCODERS, DATASETS)
    width = max(len(entry.name) for registry in registries for entry in registry.entries())
    for registry in registries:
        lines.append(f"{registry.kind}s:")
        lines += [f"  {e.name:<{width}} {e.description}  [{origin(e)}]" for e in registry.entries()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(list_parts())
