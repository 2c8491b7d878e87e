"""The ``graphformers`` console script: ``graphformers train ...`` and ``graphformers list``."""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from graphformers import train
from graphformers.registry import DATASETS, ENCODERS, LOCAL_BLOCKS, MIXERS, MODELS


def list_parts() -> str:
    """Every registered part, by kind, with its origin and one-line description."""
    lines = []
    registries = (MODELS, LOCAL_BLOCKS, MIXERS, ENCODERS, DATASETS)
    width = max(len(entry.name) for registry in registries for entry in registry.entries())
    for registry in registries:
        lines.append(f"{registry.kind}s:")
        lines += [f"  {e.name:<{width}} {e.description}  [{e.origin}]" for e in registry.entries()]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="graphformers", description="Graph transformers from recipes.")
    parser.add_argument("command", choices=["train", "list"], help="train a recipe, or list registered parts")
    args = parser.parse_args(argv[:1])
    if args.command == "list":
        print(list_parts())
        return 0
    return train.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
