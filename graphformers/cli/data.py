"""``graphformers data place DATASET FOLDER [--root ROOT]``: put raw files you fetched yourself where loaders look;
``graphformers data build-ogb DATASET FOLDER [--root ROOT]``: rebuild an OGB molecule dataset from MoleculeNet's CSV."""
from __future__ import annotations

import argparse
from pathlib import Path

from graphformers.cli.base import Command
from graphformers.resources import DATA_ROOT_VARIABLE


class Data(Command):
    """Copy a dataset's raw files found under a folder into the data root's layout, or rebuild an OGB
    molecule dataset from its MoleculeNet CSV; print what was written."""

    name = "data"
    help = "place raw files you fetched yourself where the loaders look; rebuild OGB molecule sets from MoleculeNet"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from graphformers.data.moleculenet import SOURCES

        actions = parser.add_subparsers(dest="action", required=True, metavar="{place,build-ogb}")
        placing = actions.add_parser("place", help="copy a dataset's raw files into the data root")
        placing.add_argument("dataset", help="a dataset with official raw files (an unknown name lists them)")
        placing.add_argument("folder", type=Path, help="folder holding the files (searched recursively, by file name)")
        placing.add_argument("--root", type=Path, default=None,
                             help=f"data root (default: ${DATA_ROOT_VARIABLE}, else ./datasets)")
        building = actions.add_parser("build-ogb",
                                      help="write an OGB molecule dataset (OGB's layout) from MoleculeNet's CSV")
        building.add_argument("dataset", choices=list(SOURCES), metavar="DATASET", help=f"one of: {', '.join(SOURCES)}")
        building.add_argument("folder", type=Path, help="folder holding the MoleculeNet CSV (searched recursively)")
        building.add_argument("--root", type=Path, default=None,
                              help=f"data root (default: ${DATA_ROOT_VARIABLE}, else ./datasets)")

    def run(self, args: argparse.Namespace) -> int:
        from graphformers.data.ogb_build import build_ogb
        from graphformers.data.raw_files import place
        from graphformers.resources import data_root

        root = data_root(args.root and str(args.root))
        if args.action == "build-ogb":
            print("\n".join(build_ogb(args.dataset, args.folder, root).lines()))
            return 0
        for path in place(args.dataset, args.folder, root):
            print(path)
        return 0


COMMAND = Data()
