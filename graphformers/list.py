"""``python -m graphformers.list``: the same as ``graphformers list`` (:mod:`graphformers.cli`), kept for the
scripts and documents that use this form."""
import sys

from graphformers.cli.entry import module_main

if __name__ == "__main__":
    sys.exit(module_main("list", "list"))
