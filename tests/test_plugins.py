"""Both plugin routes end to end with the example package in tests/plugin_example (one mixer, one PE):
a recipe's ``imports:`` key, and an installed distribution's ``graphformers.plugins`` entry point."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from conftest import epoch_values

import graphformers.registry as registry
from graphformers.cli.listing import list_parts
from graphformers.recipe import load_recipe
from graphformers.training.runner import run

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "tests" / "plugin_example"
MODULE = "graphformers_plugin_example"


def _installed(site: Path) -> Path:
    """What ``pip install tests/plugin_example`` leaves in site-packages, written by hand: the
    package on the path and a dist-info whose entry points come from the example's pyproject.toml."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    dist_info = site / f"graphformers_plugin_example-{project['version']}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: "
                                        f"{project['version']}\n")
    points = project["entry-points"]["graphformers.plugins"]
    (dist_info / "entry_points.txt").write_text(
        "[graphformers.plugins]\n" + "".join(f"{name} = {target}\n" for name, target in points.items()))
    return site


@pytest.fixture
def fresh_registries(monkeypatch, isolated):
    """Registries that forget what this test registers, and a plugin module imported afresh."""
    isolated(*registry.REGISTRIES)
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    yield
    sys.modules.pop(MODULE, None)


def _train(tmp_path: Path, imports: list[str], model: str, data: str, epochs: int = 3, lr: float = 0.003):
    """Train a recipe with these ``model`` / ``data`` sections (YAML flow mappings); its loss must fall."""
    recipe = tmp_path / "plugin.yaml"
    recipe.write_text(f"imports: {imports}\nmodel: {model}\ndata: {data}\n"
                      f"train: {{max_epochs: {epochs}, lr: {lr}, out_dir: {tmp_path / 'runs'}, progress_bar: false}}\n")
    result = run(load_recipe(recipe))
    losses = epoch_values(result.metrics_csv, "train/loss")
    assert losses[max(losses)] < losses[0] and 0.0 <= result.test_value <= 1.0
    return result


def _train_with_plugin_parts(tmp_path: Path, imports: list[str]) -> None:
    _train(tmp_path, imports, "{hidden: 32, layers: 2, mixer: gated-mean, encoders: [{name: inout-degree, dim: 8}]}",
           "{name: relay, batch_size: 32, options: {num_train: 400}}")


def test_decorator_route_a_recipe_imports_the_plugin_module(tmp_path, fresh_registries, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    _train_with_plugin_parts(tmp_path, [MODULE])


def test_entry_point_route_needs_no_imports_and_lists_the_parts_as_plugin(tmp_path, fresh_registries, monkeypatch):
    site = _installed(tmp_path / "site")
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.syspath_prepend(str(site))
    _train_with_plugin_parts(tmp_path, [])
    listing = list_parts()
    assert "gated-mean" in listing and f"[plugin {MODULE}]" in listing
    assert "full " in listing and "[built-in]" in listing


@pytest.mark.slow
def test_list_command_in_a_fresh_process_finds_the_installed_plugin(tmp_path):
    site = _installed(tmp_path / "site")
    path = os.pathsep.join([str(site), str(EXAMPLE), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-m", "graphformers.list"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": path}, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.split()[:1] == ["inout-degree"] and line.endswith(f"[plugin {MODULE}]") for line in lines)
    assert any(line.split()[:1] == ["gated-mean"] and "gated projection" in line for line in lines)
    for kind in ("models:", "local blocks:", "mixers:", "positional encoders:", "feature encoders:", "datasets:"):
        assert kind in lines
    for name in ("sum-gate", "star-or-path"):
        assert any(line.split()[:1] == [name] and line.endswith(f"[plugin {MODULE}]") for line in lines)


def test_the_plugin_local_block_and_dataset_train_from_a_recipe(tmp_path, fresh_registries, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    _train(tmp_path, [MODULE], "{hidden: 32, layers: 2, local: sum-gate, mixer: none, pool: sum}",
           "{name: star-or-path, batch_size: 32}", epochs=4, lr=0.01)
    assert registry.DATASETS.get("star-or-path").offline and registry.DATASETS.get("star-or-path").metric == "auroc"


def test_the_readme_plugin_module_trains_with_all_four_of_its_parts(tmp_path, fresh_registries, monkeypatch):
    readme = (REPO / "docs" / "extending.md").read_text()
    source = re.search(r"```python\n# my_package/parts.py\n(.+?)\n```", readme, re.S).group(1)
    (tmp_path / "readme_parts.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "readme_parts", raising=False)
    result = _train(tmp_path, ["readme_parts"],
                    "{hidden: 32, layers: 2, local: gated-sum, mixer: {name: mean-field, scale: 0.5}, pool: sum, "
                    "encoders: [{name: log-degree, dim: 4}]}", "{name: stars-or-paths, batch_size: 20}", epochs=4,
                    lr=0.01)
    assert result.test_value > 0.9
    sys.modules.pop("readme_parts", None)


def test_the_guides_ordered_mixer_trains_with_its_ordering_and_a_built_in_one(tmp_path, fresh_registries,
                                                                              monkeypatch):
    guide = (REPO / "docs" / "extending.md").read_text()
    source = re.search(r"```python\n# my_package/ordered.py\n(.+?)\n```", guide, re.S).group(1)
    (tmp_path / "guide_ordered.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "guide_ordered", raising=False)
    for ordering in ("hubs-first", "degree"):
        (tmp_path / ordering).mkdir()
        _train(tmp_path / ordering, ["guide_ordered"],
               f"{{hidden: 32, layers: 2, mixer: running-mean, ordering: {ordering}, encoders: []}}",
               "{name: relay, batch_size: 32, options: {num_train: 200, num_val: 50, num_test: 50}}")
    sys.modules.pop("guide_ordered", None)
