"""The package's layers (docs/architecture.md) hold: import-linter's contracts in setup.cfg are kept,
no module imports itself back through others, and the light entry points stay light."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx
import pytest
from importlinter.cli import lint_imports

REPO = Path(__file__).resolve().parents[1]


def test_the_import_linter_contracts_are_kept(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    status = lint_imports(config_filename="setup.cfg", no_cache=True, no_logo=True)
    assert status == 0, capsys.readouterr().out


def test_no_module_imports_itself_back():
    """Type-only imports (under ``TYPE_CHECKING``) never run, so they may point either way."""
    graph = grimp.build_graph("graphformers", exclude_type_checking_imports=True)
    imports = nx.DiGraph((module, imported) for module in graph.modules
                         for imported in graph.find_modules_directly_imported_by(module))
    assert [sorted(circle) for circle in nx.strongly_connected_components(imports) if len(circle) > 1] == []


@pytest.mark.slow
def test_the_package_the_registry_and_the_recipe_schema_load_neither_lightning_nor_a_dataset():
    code = ("import sys, graphformers, graphformers.registry, graphformers.recipe.schema\n"
            "print(sorted(name for name in sys.modules if name.split('.')[0] in ('pytorch_lightning', 'lightning')\n"
            "             or name.startswith('graphformers.data.') and name.rsplit('.', 1)[-1] not in ('base', "
            "'raw_files')))")
    assert _fresh_python(code) == "[]"


@pytest.mark.parametrize("command", ["", "train", "list", "results", "bench", "predict", "sweep", "reference", "data",
                                     "data place", "data build-ogb"])
def test_a_commands_help_imports_no_torch(command):
    """``graphformers [COMMAND] --help`` answers at once: its parsers read no module that imports torch (which
    takes seconds), only the commands' code does."""
    code = ("import contextlib, io, sys\nfrom graphformers.cli.entry import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            f"    main({[*command.split(), '--help']!r})\n"
            "print(sorted(name for name in sys.modules if name.split('.')[0] in ('torch', 'torch_geometric')))")
    assert _fresh_python(code) == "[]"


@pytest.mark.slow
def test_a_registry_imports_its_built_in_parts_on_first_lookup():
    code = ("import sys\nfrom graphformers.registry import DATASETS, MIXERS\n"
            "before = 'graphformers.mixers.full' in sys.modules\n"
            "print(before, 'full' in MIXERS.names(), 'graphformers.data.peptides' in sys.modules, 'zinc' in DATASETS)")
    assert _fresh_python(code).split() == ["False", "True", "False", "True"]


def _fresh_python(code: str) -> str:
    """What ``code`` prints in a new interpreter (nothing imported yet)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}).stdout.strip()


@pytest.mark.slow
def test_the_encoded_splits_and_the_loaders_work_without_lightning():
    code = ("import sys, graphformers.data.encoded_splits, graphformers.data.loaders\n"
            "print(sorted(name for name in sys.modules if name.split('.')[0] in ('pytorch_lightning', 'lightning')))")
    assert _fresh_python(code) == "[]"
