"""``model.name: gat`` against Velickovic et al. 2018's equations written densely with the same weights,
graph by graph on a batch of two graphs (nothing may pass between them); dropout only in training;
its recipe errors."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import two_small_graphs
from torch_geometric.data import Batch

from graphformers.errors import PartOptionError
from graphformers.models.gat import GATModel
from graphformers.recipe import ModelConfig, PartSpec
from graphformers.task import TaskInfo

NODE = TaskInfo(level="node", task="multiclass", num_outputs=3, metric="accuracy", node_encoder="linear", node_in=5)


def _model(info: TaskInfo = NODE, **config) -> GATModel:
    torch.manual_seed(0)
    settings = dict(name="gat", hidden=8, layers=3, heads=2, dropout=0.6, attn_dropout=0.6,
                    options={"output_heads": 2})
    return GATModel(ModelConfig(**{**settings, **config}), info)


def _dense_attention_layer(conv, x: torch.Tensor, edge_index: torch.Tensor, concat: bool) -> torch.Tensor:
    """``alpha^k_ij = softmax_j LeakyReLU(a^k . [W^k x_i || W^k x_j])`` over ``j -> i`` and ``i`` itself,
    ``sum_j alpha^k_ij W^k x_j`` per head, heads concatenated or averaged, plus the bias."""
    n, heads, channels = x.size(0), conv.heads, conv.out_channels
    neighbours = torch.eye(n, dtype=torch.bool)
    neighbours[edge_index[1], edge_index[0]] = True
    projected = (x @ conv.lin.weight.T).view(n, heads, channels)
    outputs = []
    for k in range(heads):
        target_term = projected[:, k] @ conv.att_dst[0, k]
        source_term = projected[:, k] @ conv.att_src[0, k]
        logits = F.leaky_relu(target_term[:, None] + source_term[None, :], 0.2).masked_fill(~neighbours, float("-inf"))
        outputs.append(torch.softmax(logits, dim=1) @ projected[:, k])
    stacked = torch.stack(outputs, dim=1)
    return (stacked.reshape(n, -1) if concat else stacked.mean(dim=1)) + conv.bias


def test_equals_the_papers_equations_graph_by_graph():
    model = _model().eval()
    graphs = two_small_graphs()
    out = model(Batch.from_data_list(graphs))
    expected = []
    for graph in graphs:
        x = graph.x
        for layer in model.hidden_layers:
            x = F.elu(_dense_attention_layer(layer, x, graph.edge_index, concat=True))
        expected.append(_dense_attention_layer(model.output_layer, x, graph.edge_index, concat=False))
    assert out.shape == (9, 3)
    torch.testing.assert_close(out, torch.cat(expected), atol=1e-5, rtol=1e-5)


def test_first_layer_reads_the_raw_features_and_the_last_maps_onto_the_classes():
    model = _model()
    assert model.hidden_layers[0].lin.weight.shape == (8, 5)
    assert model.output_layer.lin.weight.shape == (2 * 3, 8) and not model.output_layer.concat


def test_dropout_acts_only_in_training():
    model = _model()
    batch = Batch.from_data_list(two_small_graphs())
    model.eval()
    torch.testing.assert_close(model(batch), model(batch))
    model.train()
    assert not torch.equal(model(batch), model(batch))


@pytest.mark.parametrize("info,config,message", [
    (TaskInfo(level="graph", task="regression", num_outputs=1, metric="mae", node_encoder="linear", node_in=5), {},
     "predicts nodes"),
    (TaskInfo(level="node", task="multiclass", num_outputs=3, metric="accuracy", node_encoder="atom", node_in=9), {},
     "categorical"),
    (NODE, {"encoders": [PartSpec("rwse")]}, "model.encoders is set, but gat does not read it"),
    (NODE, {"layers": 0}, "layers >= 1"),
    (NODE, {"heads": 3}, "divisible by heads"),
    (NODE, {"options": {"output_head": 1}}, "output_heads"),
], ids=["graph-level", "categorical", "encoders", "no-layers", "heads", "unknown-option"])
def test_settings_it_cannot_honour_are_refused(info, config, message):
    with pytest.raises(PartOptionError, match=message):
        _model(info, **config)
