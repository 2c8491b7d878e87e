"""The Polynormer model against a direct dense computation of the paper's equations with the same
weights, on a batch of two small graphs (computed graph by graph, so nothing may pass between
them); its two-phase schedule; and its recipe errors."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch, Data

from graphformers.errors import PartOptionError
from graphformers.models.polynormer import PolynormerModel
from graphformers.recipe import ModelConfig, RecipeError, load_recipe
from graphformers.task import TaskInfo

INFO = TaskInfo(level="node", task="multiclass", num_outputs=3, metric="accuracy", node_encoder="linear", node_in=5)
HIDDEN, HEADS = 8, 2


def _model(beta: float = -1.0) -> PolynormerModel:
    torch.manual_seed(0)
    config = ModelConfig(name="polynormer", hidden=HIDDEN, heads=HEADS,
                         options={"local_layers": 2, "global_layers": 2, "local_epochs": 3, "beta": beta})
    return PolynormerModel(config, INFO).eval()


def _graphs() -> list[Data]:
    generator = torch.Generator().manual_seed(1)
    first = Data(x=torch.randn(5, 5, generator=generator),
                 edge_index=torch.tensor([[0, 1, 1, 2, 3, 4, 0], [1, 0, 2, 1, 4, 3, 3]]))
    second = Data(x=torch.randn(4, 5, generator=generator), edge_index=torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]]))
    return [first, second]


def _dense_gat(conv, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """GAT (Velickovic et al. 2018) written densely: ``a_ij = softmax_j LeakyReLU(a_s . W x_j + a_d . W x_i)``
    over ``j -> i`` edges plus the self loop, ``out_i = ||_h sum_j a_ij W_h x_j``."""
    n = x.size(0)
    projected = (x @ conv.lin.weight.T).view(n, HEADS, HIDDEN // HEADS)
    source = (projected * conv.att_src).sum(-1)  # [N, H]
    target = (projected * conv.att_dst).sum(-1)
    adjacency = torch.eye(n, dtype=torch.bool)
    adjacency[edge_index[1], edge_index[0]] = True  # row i: the nodes i attends to
    scores = F.leaky_relu(target[:, None, :] + source[None, :, :], conv.negative_slope)  # [N(i), N(j), H]
    weights = torch.softmax(scores.masked_fill(~adjacency[:, :, None], float("-inf")), dim=1)
    return torch.einsum("ijh,jhc->ihc", weights, projected).reshape(n, HIDDEN)


def _dense_global(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Linear attention written as its dense ``N x N`` matrix: ``att_i = sum_j (q_i . k_j) v_j / sum_j q_i . k_j``."""
    scores = torch.einsum("ihd,jhd->ijh", q, k)
    weights = scores / scores.sum(dim=1, keepdim=True)
    return torch.einsum("ijh,jhd->ihd", weights, v)


def _dense_polynormer(model: PolynormerModel, graph: Data, global_phase: bool) -> torch.Tensor:
    x = model.node_encoder(graph.x)
    local_sum = torch.zeros_like(x)
    for i in range(len(model.local_convs)):
        beta = torch.sigmoid(model.local_beta.raw[i]) if model.local_beta.learned else model.local_beta.raw[i]
        gate = F.relu(x @ model.local_gates[i].weight.T + model.local_gates[i].bias)
        x = F.relu(_dense_gat(model.local_convs[i], x, graph.edge_index) + model.local_skips[i](x))
        x = (1 - beta) * F.layer_norm(gate * x, (HIDDEN,), model.local_norms[i].weight, model.local_norms[i].bias) \
            + beta * x
        local_sum = local_sum + x
    if not global_phase:
        return model.local_head(local_sum)
    x = model.global_input_norm(local_sum)
    shape = (x.size(0), HEADS, HIDDEN // HEADS)
    for j in range(len(model.global_keys)):
        beta = torch.sigmoid(model.global_beta.raw[j]) if model.global_beta.learned else model.global_beta.raw[j]
        keys = torch.sigmoid(model.global_keys[j](x)).view(shape)
        attended = _dense_global(keys, keys, model.global_values[j](x).view(shape)).reshape(x.shape)
        x = F.relu(model.global_out(model.global_norms[j](attended) * (model.global_gates[j](x) + beta)))
    return model.global_head(x)


@pytest.mark.parametrize("beta", [-1.0, 0.1])
def test_both_phases_equal_the_dense_equations_graph_by_graph(beta):
    model, graphs = _model(beta), _graphs()
    batch = Batch.from_data_list(graphs)
    with torch.no_grad():
        for epoch, global_phase in ((0, False), (2, False), (3, True), (9, True)):
            model.start_epoch(epoch)
            expected = torch.cat([_dense_polynormer(model, graph, global_phase) for graph in graphs])
            torch.testing.assert_close(model(batch), expected, atol=1e-5, rtol=1e-4)


def test_the_phase_is_a_buffer_so_checkpoints_carry_it():
    model = _model()
    model.start_epoch(5)
    restored = _model()
    restored.load_state_dict(model.state_dict())
    assert bool(restored.global_phase)
    batch = Batch.from_data_list(_graphs())
    with torch.no_grad():
        torch.testing.assert_close(restored(batch), model(batch))


def test_permuting_the_nodes_permutes_the_output():
    model, graph = _model(), _graphs()[0]
    model.start_epoch(3)
    permutation = torch.tensor([3, 0, 4, 1, 2])
    inverse = torch.argsort(permutation)
    permuted = Data(x=graph.x[permutation], edge_index=inverse[graph.edge_index])
    with torch.no_grad():
        torch.testing.assert_close(model(permuted), model(graph)[permutation], atol=1e-5, rtol=1e-4)


def test_unknown_options_and_graph_level_tasks_are_recipe_errors(tmp_path):
    with pytest.raises(PartOptionError, match="no option 'local_layer' for polynormer"):
        PolynormerModel(ModelConfig(name="polynormer", options={"local_layer": 2}), INFO)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model: {name: polynormer}\ndata: {name: relay}\n")
    with pytest.raises(RecipeError, match="polynormer predicts nodes, but the dataset's task is graph-level"):
        load_recipe(recipe, ["data.name=peptides-func"])
    with pytest.raises(RecipeError, match=r"model.options \(gps\) has no option 'local_layers'. Options: none"):
        load_recipe(recipe, ["model.name=gps", "model.options={local_layers: 2}"])
    with pytest.raises(RecipeError, match="has no option 'local_layer'. Did you mean 'local_layers'"):
        load_recipe(recipe, ["model.options={local_layer: 2}"])
    with pytest.raises(RecipeError, match=r"'model.options \(polynormer\).beta' must be float, got str 'high'"):
        load_recipe(recipe, ["model.options={beta: high}"])
