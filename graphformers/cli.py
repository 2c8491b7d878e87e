"""The ``graphformers`` console script: ``graphformers train ...`` and ``graphformers list [KIND [NAME]]``."""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from graphformers import list as listing
from graphformers import train


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Dispatch to ``train`` or ``list`` with the remaining arguments."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="graphformers", description="Graph transformers from recipes.")
    parser.add_argument("command", choices=["train", "list"], help="train a recipe, or list registered parts")
    args = parser.parse_args(argv[:1])
    if args.command == "list":
        return listing.main(argv[1:])
    return train.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
