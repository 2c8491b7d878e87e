"""``python -m graphformers COMMAND ...``: the same as the ``graphformers`` console script."""
import sys

from graphformers.cli.entry import main

if __name__ == "__main__":
    sys.exit(main())
