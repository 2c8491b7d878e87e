"""The README and the documentation site: their commands are the ones CI runs and the ones that
exist, their generated sections are current, and the site builds with warnings as errors."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graphformers.cli.listing import kinds_table
from graphformers.recipe.reference import reference_yaml
from graphformers.registry import REGISTRIES

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
DOCS = {path.name: path.read_text() for path in (REPO / "docs").glob("*.md")}
KINDS = re.compile(r"<!-- kinds of part: [^\n]*-->\n(.+?)\n<!-- end of the kinds of part -->", re.S)


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


def test_the_getting_started_page_gives_the_readme_commands():
    for marker in ("quickstart-command", "test-command"):
        assert _readme_command(marker) in DOCS["getting-started.md"]


def test_the_readme_is_short_and_links_every_docs_page():
    assert len(README.splitlines()) <= 200
    pages = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", README))
    assert pages == set(DOCS), set(DOCS) ^ pages


@pytest.mark.parametrize("name", ["README.md", *sorted(DOCS)])
def test_every_recipe_and_figure_named_exists(name):
    text = README if name == "README.md" else DOCS[name]
    for recipe in set(re.findall(r"recipes/[\w./-]+\.yaml", text)):
        assert (REPO / recipe).is_file(), recipe
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (REPO / "docs" / image).read_bytes().startswith(b"\x89PNG"), image


def test_recipe_reference_in_the_docs_is_generated_from_the_schema():
    match = re.search(r"<!-- recipe-reference -->\s*```yaml\n(.+?)\n```", DOCS["recipes.md"], re.S)
    assert match, "docs/recipes.md has no recipe reference block"
    assert match.group(1) == reference_yaml(), "regenerate it: graphformers reference"


@pytest.mark.parametrize("text", [README, DOCS["extending.md"]], ids=["README.md", "docs/extending.md"])
def test_the_kinds_of_part_are_generated_from_the_registries(text):
    match = KINDS.search(text)
    assert match, "no table of the kinds of part"
    assert match.group(1) == kinds_table(), "regenerate it: graphformers list --markdown"
    assert match.group(1).count("\n| ") == len(REGISTRIES)  # a row per kind, the pair encodings included


def _build(docs: Path, site: Path) -> subprocess.CompletedProcess:
    config = docs.parent / "mkdocs.yml"
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True, cwd=docs.parent)


@pytest.mark.slow
def test_the_docs_site_builds_with_warnings_as_errors_and_a_broken_link_fails_it(tmp_path):
    built = _build(REPO / "docs", tmp_path / "site")
    assert built.returncode == 0, built.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "index.html").read_text().count("GlobalMixer") > 1  # API pages from docstrings
    copy = tmp_path / "copy"
    shutil.copytree(REPO / "docs", copy / "docs")
    shutil.copy(REPO / "mkdocs.yml", copy / "mkdocs.yml")
    for package in ("graphformers",):
        (copy / package).symlink_to(REPO / package)
    (copy / "docs" / "data.md").write_text(DOCS["data.md"] + "\nSee [the missing page](no-such-page.md).\n")
    broken = _build(copy / "docs", tmp_path / "broken")
    assert broken.returncode != 0 and "no-such-page.md" in broken.stderr
