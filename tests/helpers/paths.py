"""The repository's folders and the quickstart recipe."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes"
QUICKSTART = str(RECIPES / "quickstart.yaml")
