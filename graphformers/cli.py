"""The ``graphformers`` console script: ``graphformers train | predict | sweep ...`` and ``graphformers list [KIND [NAME]]``."""
from __future__ import annotations

import sys
from typing import Optional, Sequence

from graphformers import list as listing
from graphformers import predict, sweep, train
from graphformers.command_line import CommandParser

COMMANDS = {"train": train.main, "predict": predict.main, "sweep": sweep.main, "list": listing.main}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Dispatch to ``train``, ``predict``, ``sweep`` or ``list`` with the remaining arguments."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = CommandParser(prog="graphformers", description="Graph transformers from recipes.")
    parser.add_argument("command", choices=list(COMMANDS),
                        help="train a recipe, predict with a checkpoint, sweep a recipe's hyperparameters, or list parts")
    args = parser.parse_args(argv[:1])
    return COMMANDS[args.command](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
