"""``python -m graphformers.data place DATASET FOLDER [--root ROOT]``: put raw files you fetched yourself where loaders look."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

from graphformers.command_line import CommandParser
from graphformers.data.raw_files import datasets_with_raw_files, place
from graphformers.errors import GraphformersError
from graphformers.resources import DATA_ROOT_VARIABLE, data_root


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Copy the dataset's raw files found under FOLDER into the data root's layout; print what was written."""
    parser = CommandParser(prog="python -m graphformers.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    placing = commands.add_parser("place", help="copy a dataset's raw files into the data root")
    placing.add_argument("dataset", help=f"one of: {', '.join(datasets_with_raw_files())}")
    placing.add_argument("folder", type=Path, help="folder holding the files (searched recursively, by file name)")
    placing.add_argument("--root", type=Path, default=None,
                         help=f"data root (default: ${DATA_ROOT_VARIABLE}, else ./datasets)")
    args = parser.parse_args(argv)
    try:
        for path in place(args.dataset, args.folder, data_root(args.root and str(args.root))):
            print(path)
    except GraphformersError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
