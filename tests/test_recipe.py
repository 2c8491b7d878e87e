"""Recipes: inheritance, overrides and the errors users see for bad recipes."""
from __future__ import annotations

from pathlib import Path

import pytest

from graphformers.recipe import ModelConfig, PartSpec, Recipe, RecipeError, load_recipe, recipe_from_dict

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_recipes_load():
    quickstart = load_recipe(RECIPES / "quickstart.yaml")
    assert quickstart.name == "quickstart"
    assert quickstart.model.mixer == PartSpec("full")
    mpnn = load_recipe(RECIPES / "quickstart_mpnn.yaml")
    assert mpnn.model.mixer == PartSpec("none")
    assert mpnn.model.encoders == quickstart.model.encoders
    assert mpnn.train == quickstart.train


def test_extends_merges_sections_and_overrides_apply_last(tmp_path):
    write(tmp_path, "base.yaml", "model:\n  hidden: 32\n  layers: 2\ntrain:\n  lr: 0.01\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nmodel:\n  layers: 4\n  local: {name: gat, heads: 2}\n")
    recipe = load_recipe(child, ["model.layers=6", "train.lr=1e-4", "data.options.num_train=10"])
    assert (recipe.model.hidden, recipe.model.layers) == (32, 6)
    assert recipe.model.local == PartSpec("gat", {"heads": 2})
    assert recipe.train.lr == pytest.approx(1e-4)
    assert recipe.data.options == {"num_train": 10}


def test_recipe_round_trips_through_plain_dict():
    recipe = load_recipe(RECIPES / "quickstart.yaml")
    assert recipe_from_dict(recipe.to_dict()) == recipe


def test_unknown_key_names_key_file_and_suggestion(tmp_path):
    path = write(tmp_path, "bad.yaml", "model:\n  hiden: 32\n")
    with pytest.raises(RecipeError) as error:
        load_recipe(path)
    message = str(error.value)
    assert str(path) in message and "'model.hiden'" in message and "Did you mean 'model.hidden'" in message


def test_unknown_key_in_base_file_names_the_base(tmp_path):
    base = write(tmp_path, "base.yaml", "train:\n  max_epoch: 3\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nmodel:\n  hidden: 32\n")
    with pytest.raises(RecipeError, match=f"{base}: unknown key 'train.max_epoch'.*max_epochs"):
        load_recipe(child)


def test_unknown_section(tmp_path):
    path = write(tmp_path, "bad.yaml", "modle:\n  hidden: 32\n")
    with pytest.raises(RecipeError, match="unknown key 'modle'. Did you mean 'model'"):
        load_recipe(path)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("model:\n  hidden: wide\n", "'model.hidden' must be int, got str 'wide'"),
        ("model:\n  hidden: 3.5\n", "'model.hidden' must be int, got float 3.5"),
        ("train:\n  lr: fast\n", "'train.lr' must be float, got str 'fast'"),
        ("train:\n  progress_bar: 1\n", "'train.progress_bar' must be bool"),
        ("model:\n  norm: btach\n", "'model.norm' must be 'batch' | 'layer' | 'none'.*Did you mean 'batch'"),
        ("model:\n  encoders: rwse\n", "'model.encoders' must be a list of \\(a part name"),
        ("model: 3\n", "'model' must be a mapping"),
    ],
)
def test_wrong_types_name_the_expected_type(tmp_path, text, expected):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(RecipeError, match=expected):
        load_recipe(path)


def test_wrong_type_from_override_names_the_override(tmp_path):
    path = write(tmp_path, "ok.yaml", "model:\n  hidden: 32\n")
    with pytest.raises(RecipeError, match="command-line override 'model.layers=many'"):
        load_recipe(path, ["model.layers=many"])


def test_malformed_override(tmp_path):
    path = write(tmp_path, "ok.yaml", "{}\n")
    with pytest.raises(RecipeError, match="must look like section.key=value"):
        load_recipe(path, ["model.layers"])


def test_missing_file_and_missing_base(tmp_path):
    with pytest.raises(RecipeError, match="Recipe file .*nope.yaml' not found"):
        load_recipe(tmp_path / "nope.yaml")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    with pytest.raises(RecipeError, match=f"{child}: extends .*base.yaml' not found"):
        load_recipe(child)


def test_extends_cycle(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    with pytest.raises(RecipeError, match="cycle"):
        load_recipe(tmp_path / "a.yaml")


def test_unknown_mixer_lists_known_and_suggests(tmp_path):
    path = write(tmp_path, "bad.yaml", "model:\n  mixer: ful\n")
    with pytest.raises(RecipeError,
                       match=r"model.mixer: Unknown mixer 'ful'. Did you mean 'full'\? Known mixers: aft, cat, "
                             r"exphormer, full, mamba, performer, polynormer, sgformer"):
        load_recipe(path)


def test_unknown_part_option(tmp_path):
    path = write(tmp_path, "bad.yaml", "model:\n  encoders:\n    - {name: rwse, step: 8}\n")
    with pytest.raises(RecipeError, match="model.encoders \\(rwse\\) has no option 'step'. Did you mean 'steps'"):
        load_recipe(path)


@pytest.mark.parametrize("item,expected", [
    ("{name: lap, embedding: signet}",
     "'model.encoders \\(lap\\).embedding' must be 'linear' \\| 'deepset' \\| 'signnet', "
                                       "got str 'signet'. Did you mean 'signnet'"),
    ("{name: lap, normalization: random}",
     "'model.encoders \\(lap\\).normalization' must be 'sym' \\| 'rw' \\| 'none'"),
    ("{name: rwse, steps: many}", "'model.encoders \\(rwse\\).steps' must be int, got str 'many'"),
])
def test_part_option_values_are_checked_against_their_annotation(tmp_path, item, expected):
    path = write(tmp_path, "bad.yaml", f"model:\n  encoders:\n    - {item}\n")
    with pytest.raises(RecipeError, match=f"bad.yaml: {expected}"):
        load_recipe(path)


def test_encoders_from_the_issue_example_load(tmp_path):
    path = write(tmp_path, "ok.yaml",
                 "model:\n  hidden: 96\n  encoders: [{name: maglap, k: 16, q: 0.25}, {name: rwse, steps: 20}]\n")
    specs = load_recipe(path).model.encoders
    assert [(spec.name, spec.options) for spec in specs] == [("maglap", {"k": 16, "q": 0.25}), ("rwse", {"steps": 20})]


def test_unknown_dataset_option(tmp_path):
    path = write(tmp_path, "bad.yaml", "data:\n  options: {num_trains: 5}\n")
    with pytest.raises(RecipeError, match="data.options \\(relay\\) has no option 'num_trains'"):
        load_recipe(path)


def test_invalid_yaml(tmp_path):
    path = write(tmp_path, "bad.yaml", "model: [unclosed\n")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(path)


def test_an_empty_recipe_is_all_defaults(tmp_path):
    recipe = load_recipe(write(tmp_path, "empty.yaml", ""))
    assert recipe == Recipe(name="empty", model=ModelConfig(local=PartSpec("gine"), mixer=PartSpec("full")))  # gps's


def test_a_child_recipe_does_not_inherit_its_base_name(tmp_path):
    write(tmp_path, "base.yaml", "name: shared-base\n")
    assert load_recipe(write(tmp_path, "child.yaml", "extends: base.yaml\n")).name == "child"
    assert load_recipe(tmp_path / "base.yaml").name == "shared-base"
    assert load_recipe(tmp_path / "child.yaml", ["name=mine"]).name == "mine"


@pytest.mark.parametrize(
    "override,expected",
    [
        ("model.layers=0", "'model.layers' must be >= 1, got 0"),
        ("model.heads=0", "'model.heads' must be >= 1"),
        ("model.dropout=1.5", "'model.dropout' must be in \\[0, 1\\)"),
        ("train.lr=.nan", "'train.lr' must be a finite number > 0"),
        ("train.max_epochs=0", "'train.max_epochs' must be >= 1"),
        ("data.batch_size=0", "'data.batch_size' must be >= 1"),
        ("model.heads=5", "model: FullAttention: hidden \\(64\\) must be divisible by heads \\(5\\)"),
        ("model.mixer=none", "model.local and model.mixer are both none"),
        ("model.encoders=[{name: lap, dim: 64}]", "dims add up to 64, which leaves no room"),
    ],
)
def test_out_of_range_values_are_recipe_errors(tmp_path, override, expected):
    path = write(tmp_path, "ok.yaml", "model: {local: none}\n" if "both none" in expected else "{}\n")
    with pytest.raises(RecipeError, match=expected):
        load_recipe(path, [override])


def test_errors_in_list_items_name_the_override(tmp_path):
    path = write(tmp_path, "ok.yaml", "model:\n  encoders: [{name: rwse}]\n")
    with pytest.raises(RecipeError, match="command-line override"):
        load_recipe(path, ["model.encoders=[{name: rwse, dim: wide}, 3]"])


def test_a_model_key_the_model_does_not_read_is_refused_with_where_it_was_set(tmp_path):
    with pytest.raises(RecipeError, match=r"^command-line override 'model.mixer=full': model.mixer is set, but gat "
                                          r"does not read it; remove it \(the keys gat reads: hidden, layers, heads"):
        load_recipe(RECIPES / "cora-gat.yaml", ["model.mixer=full"])
    recipe = write(tmp_path, "polynormer.yaml", "model: {name: polynormer, layers: 6}\ndata: {name: minesweeper}\n")
    with pytest.raises(RecipeError, match="polynormer.yaml: model.layers is set, but polynormer does not read it"):
        load_recipe(recipe)
    grit = load_recipe(RECIPES / "zinc-grit.yaml", ["model.local=none"])  # none: no such part, as grit has none
    assert grit.model.local == PartSpec("none") and grit.model.mixer is None


def test_a_recipe_saved_with_the_old_part_defaults_loads_and_compares_as_its_model_reads_it():
    from graphformers.recipe.changes import changed_settings
    from graphformers.yaml_text import read_yaml

    saved = read_yaml(RECIPES / "results" / "cora-gat" / "recipe.yaml")  # written when every model said local: gine
    assert saved["model"]["local"] == {"name": "gine"} and saved["model"]["mixer"] == {"name": "full"}
    recipe = recipe_from_dict(saved)
    assert (recipe.model.local, recipe.model.mixer) == (None, None)
    shipped = load_recipe(RECIPES / "cora-gat.yaml").to_dict()
    assert not [key for key, _, _ in changed_settings(shipped, saved) if key.startswith("model.")]
    changed = {**saved, "model": {**saved["model"], "heads": 4}}  # a key gat reads still counts
    assert [key for key, _, _ in changed_settings(shipped, changed) if key.startswith("model.")] == ["model.heads"]
