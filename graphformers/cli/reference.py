"""``graphformers reference``: every recipe key with its default and meaning, as commented YAML
(:func:`graphformers.recipe.reference.reference_yaml`; docs/recipes.md's recipe reference is this output)."""
from __future__ import annotations

import argparse

from graphformers.cli.base import Command


class Reference(Command):
    """Print the recipe key reference."""

    name = "reference"
    help = "print every recipe key with its default and meaning, as commented YAML"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """No arguments."""

    def run(self, args: argparse.Namespace) -> int:
        from graphformers.recipe.reference import reference_yaml

        print(reference_yaml())
        return 0


COMMAND = Reference()
