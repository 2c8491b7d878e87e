"""The on-disk encoding cache: hit on the second run, miss when the encoder config or the data change."""
from __future__ import annotations

import pytest
import torch

import graphformers.data.encoded_splits as encoded_splits_module
from graphformers.data.datamodule import GraphDataModule
from graphformers.encoders import LaplacianEigenvectors, RandomWalkLandingProbabilities
from graphformers.recipe import DataConfig


def _datamodule(root, seed: int = 0, **config) -> GraphDataModule:
    options = {"num_train": 30, "num_val": 5, "num_test": 5, "seed": seed}
    return GraphDataModule(DataConfig(name="relay", root=str(root), options=options, **config))


@pytest.fixture
def computations(monkeypatch):
    """Counts calls of the batched precompute behind the cache."""
    calls = []
    compute = encoded_splits_module.compute_node_encodings

    def counting(graphs, encodings, **kwargs):
        calls.append([repr(encoding) for encoding in encodings])
        return compute(graphs, encodings, **kwargs)

    monkeypatch.setattr(encoded_splits_module, "compute_node_encodings", counting)
    return calls


def _train_with(root, transforms, **kwargs):
    datamodule = _datamodule(root, **kwargs)
    datamodule.set_precompute(transforms)
    return datamodule.split("train")


def test_second_run_loads_the_cache_instead_of_computing(tmp_path, computations):
    transforms = [LaplacianEigenvectors(4), RandomWalkLandingProbabilities(6)]
    first = _train_with(tmp_path, transforms)
    entries = sorted((tmp_path / "relay" / "encodings").glob("train-*.pt"))
    assert len(computations) == 1 and len(entries) == 1
    second = _train_with(tmp_path, transforms)
    assert len(computations) == 1
    for before, after in zip(first, second, strict=True):
        torch.testing.assert_close(after.lap_eigvec, before.lap_eigvec, rtol=0, atol=0)
        torch.testing.assert_close(after.rwse, before.rwse, rtol=0, atol=0)


@pytest.mark.parametrize("changed", [
    [LaplacianEigenvectors(5), RandomWalkLandingProbabilities(6)],
    [LaplacianEigenvectors(4, normalization="rw"), RandomWalkLandingProbabilities(6)],
    [LaplacianEigenvectors(4)],
], ids=["k", "normalization", "fewer-encoders"])
def test_a_changed_encoder_config_recomputes(tmp_path, computations, changed):
    _train_with(tmp_path, [LaplacianEigenvectors(4), RandomWalkLandingProbabilities(6)])
    graphs = _train_with(tmp_path, changed)
    assert len(computations) == 2 and computations[1] == [repr(t) for t in changed]
    assert graphs[0].lap_eigvec.size(1) == changed[0].k
    assert len(list((tmp_path / "relay" / "encodings").glob("train-*.pt"))) == 2


def test_changed_data_recomputes(tmp_path, computations):
    _train_with(tmp_path, [RandomWalkLandingProbabilities(6)], seed=0)
    _train_with(tmp_path, [RandomWalkLandingProbabilities(6)], seed=1)
    assert len(computations) == 2


def test_cache_off_writes_nothing(tmp_path, computations):
    _train_with(tmp_path, [RandomWalkLandingProbabilities(6)], cache=False)
    _train_with(tmp_path, [RandomWalkLandingProbabilities(6)], cache=False)
    assert len(computations) == 2 and not (tmp_path / "relay").exists()


@pytest.mark.parametrize("damage", ["truncated", "not a cache entry"])
def test_a_damaged_entry_is_deleted_with_a_warning_and_recomputed(tmp_path, computations, damage):
    transforms = [RandomWalkLandingProbabilities(6)]
    first = _train_with(tmp_path, transforms)
    (entry,) = (tmp_path / "relay" / "encodings").glob("train-*.pt")
    if damage == "truncated":
        entry.write_bytes(entry.read_bytes()[:200])
    else:
        torch.save([1, 2, 3], entry)
    with pytest.warns(UserWarning, match=f"{entry}: unreadable encoding-cache entry .*deleted it, recomputing"):
        again = _train_with(tmp_path, transforms)
    assert len(computations) == 2  # recomputed, and stored afresh
    for before, after in zip(first, again, strict=True):
        torch.testing.assert_close(after.rwse, before.rwse, rtol=0, atol=0)
    assert torch.load(entry, weights_only=True)["encodings"]
    _train_with(tmp_path, transforms)
    assert len(computations) == 2  # the rewritten entry is a hit
