"""Checkpoint files are replaced atomically and loaded with ``weights_only``."""
from __future__ import annotations

import pytest
import torch

from graphformers.training.checkpointing import AtomicCheckpointIO, UntrustedCheckpointError


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    io = AtomicCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint({"epoch": 1, "weights": torch.ones(3)}, path)

    def crash_midway(obj, file, *args, **kwargs):
        file.write(b"partial bytes")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"epoch": 2, "weights": torch.zeros(3)}, path)
    monkeypatch.undo()
    restored = io.load_checkpoint(path)
    assert restored["epoch"] == 1 and torch.equal(restored["weights"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_load_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.ckpt"
    torch.save({"callback": print}, path)
    with pytest.raises(UntrustedCheckpointError, match="refused: the checkpoint holds pickled objects"):
        AtomicCheckpointIO().load_checkpoint(path)


def test_a_gine_checkpoint_with_the_old_per_layer_edge_map_still_loads(tmp_path):
    """Before ``edge_linear`` existed every GINE block had the edge map and recipes said just
    ``local: gine``; such a checkpoint loads with the map, predicting what it predicted."""
    import dataclasses
    from pathlib import Path

    from torch_geometric.data import Batch

    from graphformers.data.datamodule import load_split_dataset
    from graphformers.prediction import Predictor
    from graphformers.recipe import load_recipe
    from graphformers.training.module import GraphTask

    quickstart = Path(__file__).resolve().parent.parent / "recipes" / "quickstart.yaml"
    recipe = load_recipe(quickstart, ["model.local={name: gine, edge_linear: true}", "data.options.num_train=8"])
    info = dataclasses.asdict(load_split_dataset(recipe.data).info)
    torch.manual_seed(0)
    task = GraphTask(recipe.to_dict(), info).eval()
    old_recipe = recipe.to_dict()
    old_recipe["model"]["local"] = {"name": "gine"}  # as recipes were written then
    path = tmp_path / "old.ckpt"
    torch.save({"hyper_parameters": {"recipe": old_recipe, "info": info}, "state_dict": task.state_dict()}, path)
    loaded = Predictor.from_checkpoint(path).task
    assert loaded.model.layers[0].local.conv.lin is not None
    graph = task.model.precompute_transforms()[0](load_split_dataset(recipe.data).test[0])
    with torch.no_grad():
        torch.testing.assert_close(loaded(Batch.from_data_list([graph])), task(Batch.from_data_list([graph])))
