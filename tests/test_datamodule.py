"""The DataModule's loaders: graph mini-batches and random node partitions of one large graph."""
from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import erdos_renyi_graph

from graphformers.data.datamodule import GraphDataModule
from graphformers.data.task import SplitDataset, TaskInfo
from graphformers.recipe import DataConfig
from graphformers.registry import register_dataset

INFO = TaskInfo(level="node", task="multiclass", num_outputs=3, metric="accuracy", node_encoder="linear", node_in=4)


@register_dataset("test-one-large-graph")
def one_large_graph(num_nodes: int = 500) -> SplitDataset:
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
    loader.batch_sampler.set_epoch(0)
    first = _node_ids(loader)
    loader.batch_sampler.set_epoch(1)
    second = _node_ids(loader)
    again = partitioned.train_dataloader()
    again.batch_sampler.set_epoch(1)
    assert not torch.equal(first[0], second[0])
    assert all(torch.equal(a, b) for a, b in zip(second, _node_ids(again)))


def test_evaluation_partitions_are_random_but_fixed_across_epochs(partitioned):
    loader = partitioned.val_dataloader()
    before = _node_ids(loader)
    loader.batch_sampler.set_epoch(5)
    assert all(torch.equal(a, b) for a, b in zip(before, _node_ids(loader)))
    assert not torch.equal(before[0], torch.arange(before[0].numel()))  # not the contiguous id ranges


def test_node_parts_on_a_dataset_of_many_graphs_says_what_to_use():
    datamodule = GraphDataModule(DataConfig(name="relay", node_parts=4, options={"num_train": 20}))
    with pytest.raises(ValueError, match="has 20 graphs per split; remove data.node_parts"):
        datamodule.train_dataloader()
