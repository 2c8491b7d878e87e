"""The plain message-passing stack (``model.name: mpnn``) against Kipf & Welling's GCN written
densely with the same weights, graph by graph on a batch of two graphs (so nothing may pass between
them); equivariance; its recipe errors."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import two_small_graphs
from torch_geometric.data import Batch, Data

from graphformers.errors import PartOptionError
from graphformers.models.mpnn import MPNNModel
from graphformers.recipe import ModelConfig, PartSpec
from graphformers.task import TaskInfo

NODE = TaskInfo(level="node", task="multiclass", num_outputs=3, metric="accuracy", node_encoder="linear", node_in=5)
GRAPH = TaskInfo(level="graph", task="regression", num_outputs=1, metric="mae", node_encoder="linear", node_in=5)


def _model(info: TaskInfo, **config) -> MPNNModel:
    torch.manual_seed(0)
    settings = dict(name="mpnn", hidden=8, layers=2, local=PartSpec("gcn"), mixer=None, norm="none",
                    options={"activation": "elu"})
    return MPNNModel(ModelConfig(**{**settings, **config}), info).eval()


def _dense_gcn(conv, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """``D^-1/2 (A + I) D^-1/2 X W + b`` with ``A[i, j] = 1`` for each edge ``j -> i``."""
    n = x.size(0)
    adjacency = torch.eye(n)
    adjacency[edge_index[1], edge_index[0]] = 1.0
    scale = adjacency.sum(1).rsqrt()
    return (scale[:, None] * adjacency * scale[None, :]) @ (x @ conv.lin.weight.T) + conv.bias


def _dense_stack(model: MPNNModel, graph: Data) -> torch.Tensor:
    x = model.node_encoder(graph.x)
    for block in model.blocks:
        x = F.elu(_dense_gcn(block.conv, x, graph.edge_index))
    return x


def test_the_stack_equals_gcn_written_densely_graph_by_graph():
    model, graphs = _model(NODE), two_small_graphs()
    with torch.no_grad():
        out = model(Batch.from_data_list(graphs))
        expected = torch.cat([model.head(_dense_stack(model, graph)) for graph in graphs])
    assert out.shape == (9, 3)
    torch.testing.assert_close(out, expected)


def test_graph_level_pools_each_graph_on_its_own():
    model, graphs = _model(GRAPH, pool="sum"), two_small_graphs()
    with torch.no_grad():
        out = model(Batch.from_data_list(graphs))
        expected = torch.stack([model.head(_dense_stack(model, graph).sum(0)) for graph in graphs])
    torch.testing.assert_close(out, expected)


def test_node_outputs_follow_a_permutation_of_the_nodes():
    model, graph = _model(NODE, local=PartSpec("gat", {"heads": 2})), two_small_graphs()[0]
    permutation = torch.tensor([3, 0, 4, 1, 2])
    inverse = torch.empty_like(permutation)
    inverse[permutation] = torch.arange(5)
    permuted = Data(x=graph.x[permutation], edge_index=inverse[graph.edge_index])
    with torch.no_grad():
        torch.testing.assert_close(model(permuted), model(graph)[permutation])


def test_dropout_is_applied_only_in_training():
    model = _model(NODE, dropout=0.5, input_dropout=0.5)
    batch = Batch.from_data_list(two_small_graphs())
    with torch.no_grad():
        assert torch.equal(model(batch), model(batch))
        model.train()
        assert not torch.equal(model(batch), model(batch))


@pytest.mark.parametrize("config, message", [
    ({"mixer": PartSpec("full")}, "model.mixer is set, but mpnn does not read it"),
    ({"local": None}, "mpnn is a stack of local blocks, but model.local is none or not set"),
    ({"encoders": [PartSpec("rwse", {"steps": 4, "dim": 4})]}, "model.encoders is set, but mpnn does not read it"),
    ({"options": {"activaton": "elu"}}, "model.options has no option 'activaton' for mpnn"),
])
def test_settings_the_stack_cannot_take_are_refused(config, message):
    with pytest.raises(PartOptionError, match=message):
        _model(NODE, **config)
