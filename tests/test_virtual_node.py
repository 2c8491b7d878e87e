"""The virtual node (OGB's GIN-VN / GCN-VN): its update is the written-out sum and MLP, each graph
has its own, and the models that read ``model.virtual_node`` use it."""
from __future__ import annotations

import pytest
import torch
from conftest import random_batch, task_info
from helpers.paths import RECIPES
from torch_geometric.data import Batch

from graphformers.models.gps import GPSModel
from graphformers.models.mpnn import MPNNModel
from graphformers.nn.virtual_node import VirtualNode
from graphformers.recipe import ModelConfig, PartSpec, RecipeError, load_recipe


def test_the_update_is_the_mlp_of_each_graphs_summed_joined_states_plus_its_state():
    torch.manual_seed(0)
    virtual = VirtualNode(8, layers=3, dropout=0.0).eval()
    batch = torch.tensor([0, 0, 1, 1, 1, 2])
    x, state = torch.randn(6, 8), torch.randn(3, 8)
    joined = virtual.join(x, state, batch)
    assert torch.equal(joined, torch.stack([x[i] + state[batch[i]] for i in range(6)]))
    sums = torch.stack([sum(joined[i] for i in range(6) if batch[i] == g) for g in range(3)])
    expected = virtual.updates[1](sums + state)
    torch.testing.assert_close(virtual.update(1, joined, state, batch), expected)
    assert torch.equal(virtual.initial(3), torch.zeros(3, 8))  # OGB starts from a zero embedding
    assert len(virtual.updates) == 2  # no update after the last layer


@pytest.mark.parametrize("name", ["mpnn", "gps"])
def test_each_graph_has_its_own_virtual_node_and_the_model_uses_it(name):
    torch.manual_seed(0)
    config = ModelConfig(name=name, hidden=16, layers=3, local=PartSpec("gine"),
                         mixer=PartSpec("none") if name == "gps" else None, virtual_node=True)
    model = (GPSModel if name == "gps" else MPNNModel)(config, task_info("graph")).eval()
    for update in model.virtual_node.updates:  # a trained state: the zero start would hide the node's effect
        torch.nn.init.normal_(update[0].weight)
    torch.nn.init.normal_(model.virtual_node.start)
    batch = random_batch((7, 12, 4))
    together = model(batch)
    alone = torch.cat([model(Batch.from_data_list([graph])) for graph in batch.to_data_list()])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-4)
    model.virtual_node = None
    assert not torch.allclose(model(batch), together)


def test_a_model_that_does_not_read_it_refuses_it():
    with pytest.raises(RecipeError, match="model.virtual_node is set, but gat does not read it"):
        load_recipe(RECIPES / "cora-gat.yaml", ["model.virtual_node=true"])


def test_a_batch_of_one_graph_trains():
    torch.manual_seed(0)
    config = ModelConfig(name="mpnn", hidden=8, layers=3, local=PartSpec("gine", {"batch_norm": True}), norm="batch",
                         virtual_node=True)
    model = MPNNModel(config, task_info("graph")).train()
    model(Batch.from_data_list([random_batch((5,)).to_data_list()[0]])).sum().backward()  # BatchNorm1d would raise
    assert model.virtual_node.updates[0][0].weight.grad is not None
