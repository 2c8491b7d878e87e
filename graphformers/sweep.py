"""``python -m graphformers.sweep``: the same as ``graphformers sweep`` (:mod:`graphformers.cli`), kept for the
scripts and documents that use this form."""
import sys

from graphformers.cli.entry import module_main

if __name__ == "__main__":
    sys.exit(module_main("sweep", "sweep"))
