"""The command line: ``graphformers COMMAND ...`` (:func:`~graphformers.cli.entry.main`), one module per command."""
from graphformers.cli.entry import main

__all__ = ["main"]
