"""The attention-free and simplified mixers (AFT, SGFormer): each equals its paper's equations written
out densely graph by graph, is permutation-equivariant, and refuses a bias it cannot read; the SGFormer
model equals its authors' two-branch network written out."""
from __future__ import annotations

import pytest
import torch
from conftest import permute_graph, random_graph, task_info
from torch_geometric.data import Batch

from graphformers.errors import PartOptionError
from graphformers.mixers.aft import AttentionFreeTransformer
from graphformers.mixers.full import FullAttention
from graphformers.mixers.sgformer import SGFormerAttention
from graphformers.models.parts import build_pair_encodings
from graphformers.models.sgformer import SGFormerModel
from graphformers.recipe import ModelConfig, PartSpec

SIZES = (7, 1, 12, 4)


def _batch(sizes=SIZES, transforms=()) -> Batch:
    graphs = [random_graph(n, edge_prob=0.25, seed=i) for i, n in enumerate(sizes)]
    for transform in transforms:
        graphs = [transform(graph) for graph in graphs]
    return Batch.from_data_list(graphs)


def _aft_dense(mixer: AttentionFreeTransformer, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """AFT-full (AFT-simple with ``bias`` None) on one graph: ``[n, d]``, bias ``[n, n, d]`` (target, source)."""
    query, key, value = mixer.qkv(x).chunk(3, dim=-1)
    logits = key[None, :, :] + (bias if bias is not None else 0.0)  # [i, j, d]
    weights = torch.softmax(logits, dim=1)
    return mixer.out(torch.sigmoid(query) * (weights * value[None]).sum(dim=1))


def _dense_bias(mixer: AttentionFreeTransformer, graph) -> torch.Tensor:
    """``w_ij`` for every pair of one graph: the encoder of the stored value, of the fill elsewhere."""
    encoding = mixer.bias_encoding
    channels = graph[f"{encoding.key}_attr"].size(-1)
    values = torch.full((graph.num_nodes, graph.num_nodes, channels), encoding.fill)
    source, target = graph[f"{encoding.key}_index"]
    values[target, source] = graph[f"{encoding.key}_attr"]
    dtype = mixer.qkv.weight.dtype  # the test compares in float64 too
    return mixer.bias_encoder(values.view(-1, channels).to(dtype)).view(graph.num_nodes, graph.num_nodes, -1)


def _per_graph(batch: Batch, x: torch.Tensor, dense) -> torch.Tensor:
    return torch.cat([dense(graph, x[batch.batch == g]) for g, graph in enumerate(batch.to_data_list())])


@pytest.mark.parametrize("bias", [None, "spd", "rrwp"])
def test_aft_equals_its_equations_written_out_per_graph(bias):
    torch.manual_seed(0)
    mixer = AttentionFreeTransformer(16, 4, 0.0, bias=bias).eval()
    encodings = build_pair_encodings([PartSpec(bias, {"steps": 3} if bias == "rrwp" else {})] if bias else [])
    mixer.use_pair_encodings(encodings)
    if bias is not None:
        torch.nn.init.normal_(mixer.bias_encoder.map.weight)  # a trained bias, not AFT-simple's zero start
    batch = _batch(transforms=list(encodings.values()))
    if bias == "rrwp":  # rrwp stores pairs within 2 steps only: the fill value covers the rest
        assert batch.rrwp_index.size(1) < sum(n * n for n in SIZES)
    x = torch.randn(batch.num_nodes, 16) * 2
    with torch.no_grad():
        expected = _per_graph(batch, x, lambda graph, xs: _aft_dense(
            mixer, xs, _dense_bias(mixer, graph) if bias else None))
        torch.testing.assert_close(mixer(x, batch.batch, batch), expected, atol=1e-5, rtol=1e-4)


def _sgformer_dense(mixer: SGFormerAttention, x: torch.Tensor) -> torch.Tensor:
    """SGFormer's TransConvLayer on one graph, per head (heads split ``hidden``, concatenated)."""
    heads, n = mixer.heads, x.size(0)
    q, k, v = (projection(x).view(n, heads, -1) for projection in (mixer.query, mixer.key, mixer.value))
    q, k = q / q.norm(), k / k.norm()
    scores = torch.einsum("ihm,jhm->hij", q, k)  # unnormalised, may be negative
    numerator = torch.einsum("hij,jhd->ihd", scores, v) + n * v
    denominator = scores.sum(dim=-1).T[..., None] + n
    return (numerator / denominator).reshape(n, -1)


@pytest.mark.parametrize("heads", [1, 4])
def test_sgformer_equals_its_equations_written_out_per_graph(heads):
    torch.manual_seed(0)
    mixer = SGFormerAttention(16, heads, 0.0).eval()
    batch = _batch()
    x = torch.randn(batch.num_nodes, 16)
    with torch.no_grad():
        expected = _per_graph(batch, x, lambda graph, xs: _sgformer_dense(mixer, xs))
        torch.testing.assert_close(mixer(x, batch.batch, batch), expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("make", [lambda: SGFormerAttention(16, 2, 0.0),
                                  lambda: AttentionFreeTransformer(16, 2, 0.0)], ids=["sgformer", "aft"])
def test_the_mixer_is_permutation_equivariant(make):
    torch.manual_seed(0)
    mixer = make().eval()
    graph = random_graph(11)
    x = torch.randn(11, 16)
    graph.x = x
    perm = torch.randperm(11)
    permuted = permute_graph(graph, perm)
    with torch.no_grad():
        out = mixer(x, torch.zeros(11, dtype=torch.long), Batch.from_data_list([graph]))
        out_permuted = mixer(permuted.x, torch.zeros(11, dtype=torch.long), Batch.from_data_list([permuted]))
    torch.testing.assert_close(out_permuted, out[perm], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("bias", ["spd", "rrwp"])
def test_aft_full_stays_exact_where_strongly_negative_biases_leave_little_weight(bias):
    """Terms whose sum nearly cancels (a pair bias of -20 on most of a graph's weight) must not lose the
    rest: compared with the dense equations in float64."""
    torch.manual_seed(0)
    mixer = AttentionFreeTransformer(8, 1, 0.0, bias=bias).eval()
    encodings = build_pair_encodings([PartSpec(bias, {"steps": 3} if bias == "rrwp" else {})])
    mixer.use_pair_encodings(encodings)
    with torch.no_grad():
        mixer.bias_encoder.map.weight.fill_(-20.0 if mixer.bias_encoder.categorical else 0.0)
        if not mixer.bias_encoder.categorical:
            mixer.bias_encoder.map.bias.fill_(-20.0)  # every stored pair: w = -20, unstored ones: the fill's w
    batch = _batch((6, 2, 9), transforms=list(encodings.values()))
    x = torch.randn(batch.num_nodes, 8) * 3
    with torch.no_grad():
        out = mixer(x, batch.batch, batch)
        mixer.double()
        expected = _per_graph(batch, x.double(), lambda graph, xs: _aft_dense(mixer, xs, _dense_bias(mixer, graph)))
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out.double(), expected, atol=1e-4, rtol=1e-3)


def test_sgformer_returns_the_value_of_a_one_node_graph_whose_query_opposes_its_key():
    mixer = SGFormerAttention(4, 1, 0.0)
    with torch.no_grad():
        mixer.key.weight.copy_(-mixer.query.weight)
        mixer.key.bias.copy_(-mixer.query.bias)
    batch = _batch((1, 3))
    x = torch.randn(batch.num_nodes, 4)
    out = mixer(x, batch.batch, batch)
    torch.testing.assert_close(out[0], mixer.value(x[0]))
    assert torch.isfinite(out).all()


def test_aft_gradients_reach_the_bias_and_stay_finite_on_a_one_node_graph():
    torch.manual_seed(0)
    mixer = AttentionFreeTransformer(8, 1, 0.0, bias="spd")
    encodings = build_pair_encodings([PartSpec("spd")])
    mixer.use_pair_encodings(encodings)
    batch = _batch((1, 5), transforms=list(encodings.values()))
    x = torch.randn(batch.num_nodes, 8, requires_grad=True)
    mixer(x, batch.batch, batch).square().sum().backward()
    assert torch.isfinite(x.grad).all() and mixer.bias_encoder.map.weight.grad.abs().sum() > 0


def test_a_bias_the_recipe_does_not_compute_is_refused():
    with pytest.raises(PartOptionError, match="mixer aft: bias 'spd' reads the pair encoding 'spd', which "
                                              "model.pair_encodings does not list"):
        AttentionFreeTransformer(8, 1, 0.0, bias="spd").use_pair_encodings({})


@pytest.mark.parametrize("make", [lambda: AttentionFreeTransformer(8, 2, 0.0, bias="spd"),
                                  lambda: FullAttention(8, 2, 0.0, bias="spd")])
def test_a_biased_mixer_never_runs_without_its_bias(make):
    """A mixer built with ``bias`` but never handed its pair encoding refuses to run (AFT would
    otherwise fall back to AFT-simple unnoticed)."""
    batch = _batch((3, 4))
    with pytest.raises(PartOptionError, match="bias 'spd' needs its pair encoding: the model must call "
                                              "use_pair_encodings"):
        make()(torch.randn(batch.num_nodes, 8), batch.batch, batch)


def test_sgformer_attention_of_equal_values_returns_them():
    """Every normaliser is the sum of the weights it divides: equal values come back unchanged."""
    torch.manual_seed(0)
    mixer = SGFormerAttention(8, 2, 0.0)
    torch.nn.init.zeros_(mixer.value.weight)
    batch = _batch()
    out = mixer(torch.randn(batch.num_nodes, 8), batch.batch, batch)
    torch.testing.assert_close(out, mixer.value.bias.expand_as(out), atol=1e-5, rtol=1e-5)


def _sgformer_written_out(model: SGFormerModel, data: Batch) -> torch.Tensor:
    """qitianwu/SGFormer large/ours.py in evaluation: TransConv and GraphConv, averaged, then the linear head."""
    x0 = model.attention_norms[0](model.attention_encoder(data.x)).relu()
    x = x0
    for layer, attention in enumerate(model.attention):
        x = model.attention_norms[layer + 1]((_sgformer_dense(attention, x) + x) / 2)
    n = data.num_nodes
    loops = torch.arange(n)
    edges = torch.cat([data.edge_index, torch.stack([loops, loops])], dim=1)  # SGFormer adds self loops
    degree = torch.bincount(edges[1], minlength=n).float()
    adjacency = torch.zeros(n, n)
    adjacency[edges[1], edges[0]] = degree[edges[1]].rsqrt() * degree[edges[0]].rsqrt()
    g0 = model.graph_norms[0](model.graph_encoder(data.x)).relu()
    g = g0
    for layer, conv in enumerate(model.convs):
        propagated = adjacency @ g @ conv.lin.weight.T + conv.bias  # GraphConvLayer: W (A g)
        g = model.graph_norms[layer + 1](propagated).relu() + g0
    return model.head(model.graph_weight * g + (1 - model.graph_weight) * x)


def test_the_sgformer_model_is_its_authors_network_written_out():
    torch.manual_seed(0)
    graph = random_graph(14, edge_prob=0.3, seed=6)
    config = ModelConfig(name="sgformer", hidden=16, layers=3, heads=1, dropout=0.5,
                         options={"attention_layers": 2, "graph_weight": 0.3})
    model = SGFormerModel(config, task_info("node")).eval()
    for norm in model.graph_norms:
        norm.running_mean.normal_()
        norm.running_var.uniform_(0.5, 1.5)
    data = Batch.from_data_list([graph])
    with torch.no_grad():
        torch.testing.assert_close(model(data), _sgformer_written_out(model, data), atol=1e-5, rtol=1e-4)


def test_the_sgformer_model_predicts_nodes_only():
    with pytest.raises(PartOptionError, match="sgformer predicts nodes, but the dataset's task is graph-level"):
        SGFormerModel(ModelConfig(name="sgformer"), task_info("graph"))
