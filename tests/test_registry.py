"""Registries: lookup, suggestions, clashes and plugin entry points."""
from __future__ import annotations

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
    with pytest.raises(RegistryError, match="Unknown widget 'spiner'. Did you mean 'spinner'\\? Known widgets: spinner."):
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


def test_entry_point_plugins_load_on_first_lookup_and_broken_ones_warn(tmp_path, monkeypatch):
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
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry.MIXERS, "_entries", dict(registry.MIXERS._entries))
    with pytest.warns(UserWarning, match="plugin 'broken' .*failed to import: RuntimeError: plugin bug"):
        mixer = registry.MIXERS.get("fake-plugin-mixer")
    assert mixer.__module__ == "fake_good_plugin"
    assert "full" in registry.MIXERS.names()
    sys.modules.pop("fake_good_plugin", None)
