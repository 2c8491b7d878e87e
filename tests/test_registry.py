"""Registries: lookup, suggestions, clashes and plugin entry points."""
from __future__ import annotations

import inspect
import sys
import textwrap
from pathlib import Path

import pytest

import graphformers.registry as registry
from graphformers.registry import Registry, RegistryError


def test_lookup_and_did_you_mean():
    parts = Registry("widget")

    @parts.register("spinner")
    class Spinner:
        """Spins."""

    assert parts.get("spinner") is Spinner
    assert parts.entries()[0].description == "Spins."
    with pytest.raises(RegistryError,
                       match="Unknown widget 'spiner'. Did you mean 'spinner'\\? Known widgets: spinner."):
        parts.get("spiner")


def test_name_clash_names_both_sources():
    parts = Registry("widget")
    parts.register("dup")(type("First", (), {"__module__": "pkg_a"}))
    with pytest.raises(RegistryError, match="registered twice: by pkg_a and by pkg_b"):
        parts.register("dup")(type("Second", (), {"__module__": "pkg_b"}))


def _fake_distribution(tmp_path: Path, entry_points: str, modules: dict[str, str]) -> None:
    """A minimal installed distribution (dist-info) on ``sys.path`` declaring ``entry_points``."""
    dist_info = tmp_path / "fake_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-plugin\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(f"[graphformers.plugins]\n{entry_points}\n")
    for name, source in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))


def test_entry_point_plugins_load_on_first_lookup_and_broken_ones_warn(tmp_path, monkeypatch, isolated):
    _fake_distribution(
        tmp_path,
        "good = fake_good_plugin\nbroken = fake_broken_plugin",
        {
            "fake_good_plugin": """
                from graphformers.mixers.full import FullAttention
                from graphformers.registry import register_mixer

                @register_mixer("fake-plugin-mixer")
                class PluginMixer(FullAttention):
                    '''A mixer from a plugin.'''
            """,
            "fake_broken_plugin": "raise RuntimeError('plugin bug')\n",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    isolated(registry.MIXERS)
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    with pytest.warns(UserWarning, match="plugin 'broken' .*failed to import: RuntimeError: plugin bug"):
        mixer = registry.MIXERS.get("fake-plugin-mixer")
    assert mixer.__module__ == "fake_good_plugin"
    assert "full" in registry.MIXERS.names()
    sys.modules.pop("fake_good_plugin", None)


def test_a_part_that_does_not_derive_from_its_kinds_base_is_refused():
    from torch import nn

    with pytest.raises(RegistryError, match="mixer 'plain' .* is not a graphformers.mixers.base.GlobalMixer. "
                                            "A mixer must subclass graphformers.mixers.base.GlobalMixer"):
        registry.MIXERS.register("plain")(type("Plain", (nn.Module,), {}))
    with pytest.raises(RegistryError, match="must be a graphformers.data.base.DatasetSpec instance"):
        registry.DATASETS.add("a-function", lambda root: None)
    assert "plain" not in registry.MIXERS and "a-function" not in registry.DATASETS


def test_every_built_in_part_derives_from_its_kinds_base_and_documents_its_options():
    import graphformers.options as options

    for parts in registry.REGISTRIES:
        assert parts.base is not None
        for entry in parts.entries():
            if not entry.built_in:
                continue
            part = entry.part
            assert (issubclass(part, parts.base) if isinstance(part, type) else isinstance(part, parts.base)), entry
            documented = options.args_section(inspect.getdoc(parts.constructor(entry.name)))
            undocumented = [o.name for o in parts.options(entry.name) if o.name not in documented]
            assert not undocumented, (parts.kind, entry.name, undocumented)


def test_feature_and_positional_encoders_live_in_separate_registries():
    assert set(registry.POSITIONAL_ENCODERS.names()) >= {"lap", "maglap", "rwse"}
    assert set(registry.FEATURE_ENCODERS.names()) >= {"linear", "embedding", "atom", "bond"}
    assert not set(registry.POSITIONAL_ENCODERS.names()) & set(registry.FEATURE_ENCODERS.names())


def test_list_prints_one_parts_options_from_its_signature(capsys):
    from graphformers.cli import main as cli

    def main(argv):
        return cli(["list", *argv])

    assert main(["mixer", "performer"]) == 0
    out = capsys.readouterr().out
    assert "features (int, default 64)" in out and "redraw_interval (int, default 1000)" in out
    assert "supplied by the toolkit: hidden, heads, dropout" in out
    assert main(["encoder", "lap"]) == 0
    assert "normalization ('sym' | 'rw' | 'none', default 'sym')" in capsys.readouterr().out
    assert main(["dataset", "relay"]) == 0
    out = capsys.readouterr().out
    assert "num_train (int, default 2000)" in out and "supplied by the toolkit: root" in out and "root (" not in out
    assert main(["mixer", "ful"]) == 2
    assert capsys.readouterr().err.startswith("error: Unknown mixer 'ful'. Did you mean 'full'?")


def test_options_in_the_listing_are_the_ones_the_recipe_validator_accepts(tmp_path):
    from graphformers.recipe import RecipeError, load_recipe

    values = {option.name: "relu" if option.name == "kernel" else 8 for option in registry.MIXERS.options("performer")}
    recipe = tmp_path / "r.yaml"
    options = ", ".join(f"{n}: {v}" for n, v in values.items())
    recipe.write_text(f"model: {{mixer: {{name: performer, {options}}}}}\n")
    assert load_recipe(recipe).model.mixer.options == values
    recipe.write_text("model: {mixer: {name: performer, feature: 8}}\n")
    with pytest.raises(RecipeError,
                       match="no option 'feature'. Did you mean 'features'\\? Options: features, redraw_interval"):
        load_recipe(recipe)


def test_a_dataset_loader_without_a_root_parameter_is_refused_where_it_is_registered():
    from graphformers.registry import register_dataset

    with pytest.raises(RegistryError, match="must take the data root as a parameter named root"):
        register_dataset("rootless")(lambda num_graphs=3: None)
    assert "rootless" not in registry.DATASETS
    assert registry.DATASETS.entry("coco-sp").description.startswith("LRGB COCO-SP")  # the loader's docstring


def test_register_dataset_wraps_the_loader_in_a_spec(isolated):
    from graphformers.data.base import DatasetSpec
    from graphformers.registry import register_dataset

    isolated(registry.DATASETS)

    def tiny(root: str):
        """A tiny dataset."""

    assert register_dataset("tiny", raw_files=[])(tiny) is tiny
    spec = registry.DATASETS.get("tiny")
    assert isinstance(spec, DatasetSpec) and spec.loader is tiny and spec.raw_files == () and spec.offline
    assert registry.DATASETS.entry("tiny").origin == tiny.__module__
