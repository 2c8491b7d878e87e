"""Recipe files as people save them: another encoding, a key written twice (at any depth, in an
``extends`` base, in an override's value, in a sweep space). Each is one ``error:`` line naming
the file, the line(s) and the fix, before anything is built."""
from __future__ import annotations

from pathlib import Path

import pytest

from graphformers.cli import main as cli
from graphformers.experiments.search_space import SearchSpaceError, load_space
from graphformers.recipe import RecipeError, load_recipe
from graphformers.yaml_text import YamlError, parse_yaml

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = (REPO / "recipes" / "quickstart.yaml").read_text()


def test_a_recipe_saved_in_latin_1_names_the_file_the_line_and_the_fix(tmp_path, capsys):
    recipe = tmp_path / "latin.yaml"
    recipe.write_bytes(QUICKSTART.encode() + "# entraîné sur CPU\n".encode("latin-1"))
    line = QUICKSTART.count("\n") + 1
    assert cli(["train", str(recipe)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and error.startswith("error: "), error
    assert f"{recipe}, line {line}: byte 0xee is not UTF-8" in error and "save it as UTF-8" in error


@pytest.mark.parametrize("where", ["top level", "nested", "list item"])
def test_a_key_written_twice_names_the_key_and_both_lines(tmp_path, where):
    text = {
        "top level": "name: twice\nmodel:\n  hidden: 16\ndata:\n  name: zinc\nmodel:\n  hidden: 32\n",
        "nested": "name: twice\nmodel:\n  hidden: 16\n  layers: 2\n  hidden: 32\n",
        "list item": "name: twice\nmodel:\n  encoders:\n    - {name: rwse, steps: 8, steps: 16}\n",
    }[where]
    key, lines = {"top level": ("model", (2, 6)), "nested": ("hidden", (3, 5)), "list item": ("steps", (4, 4))}[where]
    recipe = tmp_path / "twice.yaml"
    recipe.write_text(text)
    with pytest.raises(RecipeError) as raised:
        load_recipe(recipe)
    message = str(raised.value)
    assert str(recipe) in message and f"key {key!r} is given twice" in message
    assert f"lines {lines[0]} and {lines[1]}" in message and "delete or merge one" in message


def test_a_key_written_twice_in_an_extends_base_names_the_base(tmp_path):
    (tmp_path / "base.yaml").write_text("name: base\ntrain:\n  lr: 0.001\n  lr: 0.01\n")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nname: child\n")
    with pytest.raises(RecipeError, match=r"base\.yaml.*key 'lr' is given twice.*lines 3 and 4"):
        load_recipe(tmp_path / "child.yaml")


def test_a_key_written_twice_in_an_override_value_is_refused(tmp_path, capsys):
    recipe = tmp_path / "quickstart.yaml"
    recipe.write_text(QUICKSTART)
    assert cli(["train", str(recipe), "model.local={name: gat, name: gine}"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: Override 'model.local={name: gat, name: gine}'")
    assert "'name' is given twice" in error


def test_a_key_written_twice_in_a_sweep_space_is_refused(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("train.lr: {low: 1.0e-4, high: 1.0e-2}\nmodel.hidden: [16, 32]\ntrain.lr: {low: 0.1, high: 0.2}\n")
    with pytest.raises((YamlError, SearchSpaceError), match=r"key 'train.lr' is given twice.*lines 1 and 3"):
        load_space(space, REPO / "recipes" / "quickstart.yaml")


def test_yaml_merge_keys_may_be_overridden_and_odd_mappings_are_yaml_errors():
    merged = parse_yaml("base: &base {a: 1, b: 2}\nchild:\n  <<: *base\n  b: 3\n", "test")
    assert merged["child"] == {"a": 1, "b": 3}  # an override of a merged key is not a duplicate
    with pytest.raises(YamlError, match=r"key '1' \(line 1\) and '1.0' is given twice.*lines 1 and 2"):
        parse_yaml("1: a\n1.0: b\n", "test")  # equal keys spelled differently: both spellings named
    for odd in ("x: !!map foo\n", "? [1, 2]\n: a\n"):
        with pytest.raises(YamlError, match="not valid YAML"):
            parse_yaml(odd, "test")


def test_distinct_keys_and_repeated_values_still_load():
    assert parse_yaml("a: 1\nb: {a: 1, b: 1}\nc: [{a: 1}, {a: 2}]\n", "test") == {
        "a": 1, "b": {"a": 1, "b": 1}, "c": [{"a": 1}, {"a": 2}]}
    with pytest.raises(YamlError, match="not valid YAML"):
        parse_yaml("a: [1, 2\n", "test")
