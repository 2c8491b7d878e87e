"""Batches split across processes: every graph (or target node) exactly once per epoch, and the
global batches of W processes equal one process's batches of W times the size."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from conftest import CPU_STRATEGY
from hypothesis import given, settings
from hypothesis import strategies as st
from lightning_fabric.utilities.data import _set_sampler_epoch  # what Lightning calls before every epoch
from torch.utils.data import DataLoader

from graphformers.data.datamodule import GraphDataModule
from graphformers.data.distributed import GlobalBatchSampler, TooFewItemsError
from graphformers.recipe import DataConfig


def _epoch(size: int, batch_size: int, world: int, order: str, epoch: int = 0) -> list[list[list[int]]]:
    """Per rank, the batches of one epoch, the epoch set the way Lightning sets it on a loader."""
    ranks = []
    for rank in range(world):
        sampler = GlobalBatchSampler(size, batch_size, num_replicas=world, rank=rank, order=order, seed=3)
        loader = DataLoader(range(size), batch_sampler=sampler)
        _set_sampler_epoch(loader, epoch)
        ranks.append([batch.tolist() for batch in loader])
        assert len(ranks[-1]) == len(sampler) == len(loader)
    return ranks


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 300), batch_size=st.integers(1, 40), world=st.integers(1, 5),
       order=st.sampled_from(["sequential", "per_epoch", "fixed"]))
def test_every_item_once_per_epoch_and_the_same_number_of_steps_on_every_rank(size, batch_size, world, order):
    if size < world:
        with pytest.raises(TooFewItemsError, match="cannot be split across"):
            GlobalBatchSampler(size, batch_size, num_replicas=world)
        return
    ranks = _epoch(size, batch_size, world, order)
    assert len({len(batches) for batches in ranks}) == 1
    assert all(batch for batches in ranks for batch in batches)  # no rank ever gets an empty batch
    seen = sorted(i for batches in ranks for batch in batches for i in batch)
    assert seen == list(range(size))


@pytest.mark.parametrize("size", [256, 250, 226])  # 225 would leave one graph for two ranks (merged, below)
def test_global_batches_of_two_processes_are_one_process_batches(size):
    """Rank shares of step k together are exactly the single process's batch k (batch 2 x 16 = 32)."""
    two = _epoch(size, 16, 2, "per_epoch", epoch=4)
    (one,) = _epoch(size, 32, 1, "per_epoch", epoch=4)
    assert len(one) == len(two[0])
    for step, whole in enumerate(one):
        assert sorted(two[0][step] + two[1][step]) == sorted(whole)
        assert abs(len(two[0][step]) - len(two[1][step])) <= 1


def test_an_empty_split_has_no_batches():
    sampler = GlobalBatchSampler(0, 4, num_replicas=2)
    assert list(sampler) == [] and len(sampler) == 0


def test_orders():
    assert _epoch(10, 4, 1, "sequential")[0] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert _epoch(50, 8, 2, "per_epoch", epoch=0) != _epoch(50, 8, 2, "per_epoch", epoch=1)
    assert _epoch(50, 8, 2, "fixed", epoch=0) == _epoch(50, 8, 2, "fixed", epoch=1) != _epoch(50, 8, 2, "sequential")


def test_a_last_global_batch_smaller_than_the_world_is_merged_into_the_one_before():
    ranks = _epoch(17, 4, 2, "sequential")  # global batches of 8: 8, 8, 1 -> 8, 9
    assert [len(batch) for batch in ranks[0]] == [4, 5] and [len(batch) for batch in ranks[1]] == [4, 4]


def _shares(datamodule: GraphDataModule, world: int, loader: str) -> list[list]:
    """Per rank, the batches a ``world``-process run's rank would load."""
    shares = []
    for rank in range(world):
        datamodule.trainer = SimpleNamespace(world_size=world, global_rank=rank, strategy=CPU_STRATEGY,
                                             current_epoch=0)
        shares.append(list(getattr(datamodule, loader)()))
    return shares


@pytest.mark.parametrize("loader", ["train_dataloader", "val_dataloader", "test_dataloader"])
def test_each_graph_is_loaded_by_exactly_one_process_once_per_epoch(loader):
    datamodule = GraphDataModule(DataConfig(name="relay", batch_size=8,
                                            options=dict(num_train=61, num_val=13, num_test=9)))
    split = {"train_dataloader": "train", "val_dataloader": "val", "test_dataloader": "test"}[loader]
    graphs = datamodule.split(split)
    fingerprints = [tuple(graph.y.tolist()) + (graph.num_nodes,) for graph in graphs]
    shares = _shares(datamodule, 3, loader)
    assert len({len(batches) for batches in shares}) == 1
    loaded = [tuple(graph.y.tolist()) + (graph.num_nodes,) for batches in shares for batch in batches
              for graph in batch.to_data_list()]
    assert sorted(loaded) == sorted(fingerprints)


def test_a_run_resumed_within_an_epoch_gets_its_remaining_batches_once():
    sampler = GlobalBatchSampler(50, 8, num_replicas=2, rank=1, order="per_epoch", seed=3)
    loader = DataLoader(range(50), batch_sampler=sampler)
    _set_sampler_epoch(loader, 4)
    whole = list(sampler)
    sampler.resume_within_epoch(4, 2)  # a checkpoint taken after 2 of epoch 4's batches
    _set_sampler_epoch(loader, 4)  # as Lightning does after starting the iterator
    assert list(sampler) == whole[2:] and len(sampler) == len(whole)
    assert list(sampler) == whole  # the next pass is whole again
    sampler.resume_within_epoch(4, 2)
    _set_sampler_epoch(loader, 5)  # the checkpoint's epoch had ended: nothing is skipped
    assert len(list(sampler)) == len(whole)


@pytest.mark.parametrize("done", [0, 2])
def test_a_resumed_loader_with_worker_processes_starts_in_the_resumed_epochs_order(done):
    """Lightning starts the loader's iterator (and its workers draw batches) before it sets the epoch,
    while its epoch counter still shows the checkpoint's: the data module sets the resumed epoch first."""
    config = DataConfig(name="relay", batch_size=8, num_workers=1, options=dict(num_train=61, num_val=13, num_test=9))
    resumed = GraphDataModule(config, seed=5)
    resumed.trainer = SimpleNamespace(world_size=1, global_rank=0, strategy=CPU_STRATEGY, current_epoch=2)
    resumed.resume_at(3, done)
    loader = resumed.train_dataloader()
    batches = iter(loader)  # as Lightning's setup_data does, before it sets the epoch
    _set_sampler_epoch(loader, 3)
    reference = GraphDataModule(dataclasses.replace(config, num_workers=0), seed=5)
    reference.trainer = SimpleNamespace(world_size=1, global_rank=0, strategy=CPU_STRATEGY, current_epoch=3)
    expected_loader = reference.train_dataloader()
    _set_sampler_epoch(expected_loader, 3)

    def fingerprint(batch):
        return [(graph.num_nodes, tuple(graph.y.tolist())) for graph in batch.to_data_list()]

    assert [fingerprint(batch) for batch in batches] == [fingerprint(batch) for batch in expected_loader][done:]
