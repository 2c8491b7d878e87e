"""The README's commands are the ones CI runs and the ones that exist."""
from __future__ import annotations

import re
from pathlib import Path

from graphformers.cli.listing import kinds_table
from graphformers.recipe.reference import reference_yaml
from graphformers.registry import REGISTRIES

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def _readme_command(marker: str) -> str:
    """The single shell line in the fenced block that follows ``<!-- marker -->``."""
    match = re.search(rf"<!-- {marker} -->\s*```(?:bash|sh)?\n(.+?)\n```", README)
    assert match, f"README has no command block after <!-- {marker} -->"
    return match.group(1)


def test_ci_runs_the_readme_test_command_verbatim():
    command = _readme_command("test-command")
    assert "pytest" in command and "torch==2.13.0" in command
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert command in ci_lines


def test_quickstart_command_trains_the_shipped_quickstart_recipe():
    command = _readme_command("quickstart-command")
    assert "torch==2.13.0" in command
    assert command.endswith("python -m graphformers.train recipes/quickstart.yaml")
    assert (REPO / "recipes" / "quickstart.yaml").is_file()


def test_every_recipe_named_in_the_readme_exists():
    for name in set(re.findall(r"recipes/[\w./-]+\.yaml", README)):
        assert (REPO / name).is_file(), name


def test_every_image_in_the_readme_is_committed():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert images
    for path in images:
        assert (REPO / path).read_bytes().startswith(b"\x89PNG"), path


def test_recipe_reference_in_the_readme_is_generated_from_the_schema():
    match = re.search(r"<!-- recipe-reference -->\s*```yaml\n(.+?)\n```", README, re.S)
    assert match, "README has no recipe reference block"
    assert match.group(1) == reference_yaml(), "regenerate it: python -m graphformers.recipe_reference"


def test_the_kinds_of_part_in_the_readme_are_generated_from_the_registries():
    match = re.search(r"<!-- kinds of part: [^\n]*-->\n(.+?)\n<!-- end of the kinds of part -->", README, re.S)
    assert match, "README has no table of the kinds of part"
    assert match.group(1) == kinds_table(), "regenerate it: graphformers list --markdown"
    assert match.group(1).count("\n| ") == len(REGISTRIES)  # a row per kind, the pair encodings included
