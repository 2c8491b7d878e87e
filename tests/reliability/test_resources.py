"""Full attention on a graph too large for it is refused before anything is allocated, with the
estimate and the alternatives; partitions and linear mixers pass."""
from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphformers.data.base import SplitDataset
from graphformers.data.datamodule import GraphDataModule
from graphformers.errors import GraphTooLargeError
from graphformers.mixers import FullAttention, Performer
from graphformers.recipe import DataConfig, load_recipe
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo
from graphformers.training.runner import run

NODES = 150_000
INFO = TaskInfo(level="node", task="multiclass", num_outputs=3, metric="accuracy", node_encoder="linear", node_in=2)


@register_dataset("test-one-huge-graph")
def one_huge_graph(root: str) -> SplitDataset:
    """One 150,000-node path graph (train/val/test masks over it)."""
    source = torch.arange(NODES - 1)
    graph = Data(x=torch.randn(NODES, 2), edge_index=torch.stack([source, source + 1]),
                 y=torch.randint(0, 3, (NODES,)), target_mask=torch.ones(NODES, dtype=torch.bool), num_nodes=NODES)
    return SplitDataset([graph], [graph], [graph], INFO)


def test_full_attention_on_a_huge_graph_is_refused_before_training(tmp_path):
    recipe = tmp_path / "huge.yaml"
    recipe.write_text("model: {hidden: 16, layers: 1, heads: 4, mixer: full}\n"
                      "data: {name: test-one-huge-graph, batch_size: 1}\n"
                      f"train: {{max_epochs: 1, out_dir: {tmp_path / 'runs'}, progress_bar: false}}\n")
    with pytest.raises(GraphTooLargeError) as error:
        run(load_recipe(recipe))
    message = str(error.value)
    assert "full attention on a graph of 150,000 nodes: 90,000,000,000 attention scores per layer (335 GiB" in message
    assert "Use a linear mixer (performer, exphormer, polynormer), split the graph with data.node_parts" in message
    assert not (tmp_path / "runs").exists()  # nothing started


def test_partitions_and_linear_mixers_pass_the_check():
    datamodule = GraphDataModule(DataConfig(name="test-one-huge-graph", node_parts=4))
    # + 1: a process may get one node more in the last batch
    assert datamodule.encoded.largest_graph_nodes() == NODES // 4 + 1
    FullAttention(16, 4, 0.0).check_graph_size(datamodule.encoded.largest_graph_nodes())
    Performer(16, 4, 0.0).check_graph_size(NODES)


def test_the_mixer_itself_refuses_before_attending():
    mixer = FullAttention(8, 2, 0.0, max_nodes=10)
    graphs = [Data(num_nodes=4), Data(num_nodes=12)]
    batch = Batch.from_data_list(graphs)
    with pytest.raises(GraphTooLargeError, match="graph of 12 nodes: 288 attention scores"):
        mixer(torch.randn(16, 8), batch.batch, batch)
