"""``python -m graphformers.recipe_reference``: the same as ``graphformers reference`` (:mod:`graphformers.cli`), kept
for the
scripts and documents that use this form."""
import sys

from graphformers.cli.entry import module_main

if __name__ == "__main__":
    sys.exit(module_main("reference", "recipe_reference"))
