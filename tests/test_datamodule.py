"""The DataModule's loaders: graph mini-batches, and random node partitions or sampled neighbourhoods of one large
graph."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from conftest import CPU_STRATEGY
from lightning_fabric.utilities.data import _set_sampler_epoch  # what Lightning calls before every epoch
from torch_geometric.data import Data
from torch_geometric.sampler import NodeSamplerInput
from torch_geometric.utils import erdos_renyi_graph

from graphformers.data.base import SplitDataset
from graphformers.data.datamodule import GraphDataModule
from graphformers.data.sampling import UniformNeighborSampler
from graphformers.recipe import DataConfig, RecipeError
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo

INFO = TaskInfo(level="node", task="multiclass", num_outputs=3, metric="accuracy", node_encoder="linear", node_in=4)


@register_dataset("test-one-large-graph")
def one_large_graph(root: str, num_nodes: int = 500) -> SplitDataset:
    """One random 500-node graph per split, each with its own ``target_mask``."""
    torch.manual_seed(0)
    edge_index = erdos_renyi_graph(num_nodes, 0.02)
    masks = torch.randint(0, 3, (num_nodes,))

    def split(part: int) -> list[Data]:
        return [Data(x=torch.randn(num_nodes, 4), edge_index=edge_index, y=torch.randint(0, 3, (num_nodes,)),
                     node_id=torch.arange(num_nodes), target_mask=masks == part, num_nodes=num_nodes)]

    return SplitDataset(split(0), split(1), split(2), INFO)


@pytest.fixture
def partitioned():
    return GraphDataModule(DataConfig(name="test-one-large-graph", node_parts=4), seed=7)


def _node_ids(loader) -> list[torch.Tensor]:
    return [batch.node_id for batch in loader]


def test_node_partitions_cover_every_node_once_per_epoch_with_induced_edges(partitioned):
    batches = list(partitioned.train_dataloader())
    assert len(batches) == 4 and all(batch.num_graphs == 1 for batch in batches)
    ids = torch.cat([batch.node_id for batch in batches])
    assert sorted(ids.tolist()) == list(range(500))
    graph = partitioned.split("train")[0]
    for batch in batches:
        inside = torch.zeros(500, dtype=torch.bool)
        inside[batch.node_id] = True
        expected = int((inside[graph.edge_index[0]] & inside[graph.edge_index[1]]).sum())
        assert batch.num_edges == expected
        assert torch.equal(batch.target_mask, graph.target_mask[batch.node_id])


def test_training_partitions_are_redrawn_each_epoch_and_reproducible(partitioned):
    loader = partitioned.train_dataloader()
    _set_sampler_epoch(loader, 0)
    first = _node_ids(loader)
    _set_sampler_epoch(loader, 1)
    second = _node_ids(loader)
    again = partitioned.train_dataloader()
    _set_sampler_epoch(again, 1)
    assert not torch.equal(first[0], second[0])
    assert all(torch.equal(a, b) for a, b in zip(second, _node_ids(again), strict=True))


def test_evaluation_partitions_are_random_but_fixed_across_epochs(partitioned):
    loader = partitioned.val_dataloader()
    before = _node_ids(loader)
    _set_sampler_epoch(loader, 5)
    assert all(torch.equal(a, b) for a, b in zip(before, _node_ids(loader), strict=True))
    assert not torch.equal(before[0], torch.arange(before[0].numel()))  # not the contiguous id ranges


def test_node_parts_on_a_dataset_of_many_graphs_says_what_to_use():
    datamodule = GraphDataModule(DataConfig(name="relay", node_parts=4, options={"num_train": 20}))
    with pytest.raises(RecipeError, match="has 20 node-level graphs per split; remove data.node_parts"):
        datamodule.train_dataloader()


@pytest.fixture
def sampled():
    return GraphDataModule(DataConfig(name="test-one-large-graph", batch_size=32, neighbors=[4, 3]), seed=7)


def test_neighbour_samples_put_the_seeds_first_and_only_hold_graph_edges_within_the_fan_out(sampled):
    graph = sampled.split("train")[0]
    existing = set(map(tuple, graph.edge_index.t().tolist()))
    in_degree = torch.bincount(graph.edge_index[1], minlength=graph.num_nodes)
    batches = list(sampled.train_dataloader())
    for batch in batches:
        seeds = batch.node_id[batch.target_mask]
        assert batch.target_mask[:seeds.numel()].all() and not batch.target_mask[seeds.numel():].any()
        assert graph.target_mask[seeds].all()
        source, target = batch.node_id[batch.edge_index]
        assert set(zip(source.tolist(), target.tolist(), strict=True)) <= existing
        drawn = torch.bincount(batch.edge_index[1], minlength=batch.num_nodes)  # incoming edges per sampled node
        degree = in_degree[batch.node_id]
        first_hop = torch.zeros(batch.num_nodes, dtype=torch.bool)
        first_hop[batch.edge_index[0, batch.target_mask[batch.edge_index[1]]]] = True
        first_hop &= ~batch.target_mask
        assert torch.equal(drawn[batch.target_mask], degree[batch.target_mask].clamp(max=4))
        assert torch.equal(drawn[first_hop], degree[first_hop].clamp(max=3))
        assert not drawn[~batch.target_mask & ~first_hop].any()  # nodes of the last hop are not expanded
    seeds = torch.cat([batch.node_id[batch.target_mask] for batch in batches])
    assert sorted(seeds.tolist()) == graph.target_mask.nonzero().view(-1).tolist()


def test_each_target_node_is_a_seed_of_exactly_one_process_once_per_epoch(sampled):
    graph = sampled.split("val")[0]
    shares = []
    for rank in range(3):
        sampled.trainer = SimpleNamespace(world_size=3, global_rank=rank, strategy=CPU_STRATEGY, current_epoch=0)
        shares.append([batch.node_id[batch.target_mask] for batch in sampled.val_dataloader()])
    assert len({len(batches) for batches in shares}) == 1
    seeds = torch.cat([ids for batches in shares for ids in batches])
    assert sorted(seeds.tolist()) == graph.target_mask.nonzero().view(-1).tolist()


def test_neighbour_samples_repeat_for_evaluation_and_change_between_training_epochs(sampled):
    first = [batch.node_id for batch in sampled.val_dataloader()]
    assert all(torch.equal(a, b.node_id) for a, b in zip(first, sampled.val_dataloader(), strict=True))
    loader = sampled.train_dataloader()
    _set_sampler_epoch(loader, 0)
    epoch_zero = [batch.node_id for batch in loader]
    _set_sampler_epoch(loader, 1)
    assert not torch.equal(epoch_zero[0], next(iter(loader)).node_id)


def test_neighbours_are_drawn_uniformly_without_replacement():
    """A hub with 100 in-neighbours, 10 drawn per sample: each neighbour ~ 10 / 100 of 2,000 draws."""
    hub_edges = torch.stack([torch.arange(1, 101), torch.zeros(100, dtype=torch.long)])
    sampler = UniformNeighborSampler(Data(edge_index=hub_edges, num_nodes=101), [10])
    counts = torch.zeros(101)
    for draw in range(2_000):
        sampler.seed = draw
        out = sampler.sample_from_nodes(NodeSamplerInput(input_id=None, node=torch.tensor([0])))
        neighbours = out.node[out.row]
        assert neighbours.numel() == 10 == neighbours.unique().numel()
        counts[neighbours] += 1
    assert counts[0] == 0 and 140 < counts[1:].min() and counts[1:].max() < 260  # expected 200 each


def test_the_predict_split_holds_the_given_graphs_with_the_precompute_applied():
    from graphformers.encoders.random_walk import RandomWalkLandingProbabilities

    datamodule = GraphDataModule(DataConfig(name="relay", batch_size=4, options={"num_train": 20}))
    given = datamodule.splits.test[:6]  # new graphs: here, copies of six test graphs
    predicting = GraphDataModule(datamodule.config, splits=SplitDataset([], [], [], datamodule.info), predict=given)
    predicting.set_precompute([RandomWalkLandingProbabilities(3)])
    batches = list(predicting.predict_dataloader())
    assert [batch.num_graphs for batch in batches] == [4, 2]
    assert torch.equal(torch.cat([batch.x for batch in batches]), torch.cat([graph.x for graph in given]))
    assert all(batch.rwse.shape == (batch.num_nodes, 3) for batch in batches)  # encoded like a split
    assert [len(getattr(predicting.splits, name)) for name in ("train", "val", "test")] == [0, 0, 0]
