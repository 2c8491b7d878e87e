"""Untrusted files: a tampered checkpoint (pickle payload) is refused without running it, also when
resuming from the command line; a recipe with a Python object tag is refused (yaml.safe_load)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from graphformers.recipe import RecipeError, load_recipe
from graphformers.training.checkpointing import AtomicCheckpointIO, UntrustedCheckpointError

REPO = Path(__file__).resolve().parents[2]


class Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _tampered_checkpoint(path: Path, marker: Path) -> Path:
    torch.save({"epoch": 0, "state_dict": {"w": torch.zeros(2)}, "payload": Payload(marker)}, path)
    return path


def test_tampered_checkpoint_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = _tampered_checkpoint(tmp_path / "tampered.ckpt", marker)
    with pytest.raises(UntrustedCheckpointError, match=r"tampered.ckpt: refused: the checkpoint holds pickled objects "
                                                      r".*Nothing was executed"):
        AtomicCheckpointIO().load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.slow
def test_resuming_from_a_tampered_checkpoint_is_an_error_line(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "version_0" / "checkpoints").mkdir(parents=True)
    path = _tampered_checkpoint(tmp_path / "version_0" / "checkpoints" / "last.ckpt", marker)
    done = subprocess.run([sys.executable, "-m", "graphformers.train", "recipes/quickstart.yaml",
                           "data.options.num_train=64", "train.progress_bar=false", f"train.out_dir={tmp_path}",
                           "--resume", str(path)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {path}: refused: the checkpoint holds pickled")
    assert "Traceback" not in done.stderr and not marker.exists()


def test_recipe_with_a_python_object_tag_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    recipe = tmp_path / "evil.yaml"
    recipe.write_text(f"model: !!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path "
                      f"['{marker}']]\n")
    with pytest.raises(RecipeError, match="evil.yaml: not valid YAML"):
        load_recipe(recipe)
    assert not marker.exists()
