"""Global mixers: isolation between graphs, exactness against dense references, and PyG agreement."""
from __future__ import annotations

import math

import networkx as nx
import pytest
import torch
from conftest import naive_attention, random_graph
from torch_geometric.data import Batch, Data
from torch_geometric.nn.attention import PolynormerAttention as PyGPolynormerAttention

from graphformers.errors import PartOptionError
from graphformers.mixers import ExpanderEdges, Exphormer, Performer, PolynormerAttention
from graphformers.mixers.kernel_attention import per_graph_linear_attention
from graphformers.models.parts import build_ordering, mixer_companions
from graphformers.registry import MIXERS


def _prepared_batch(mixer, sizes, seed=0) -> Batch:
    graphs = [random_graph(n, seed=seed + i) for i, n in enumerate(sizes)]
    transform = mixer.precompute()
    return Batch.from_data_list([transform(g) for g in graphs] if transform else graphs)


@pytest.mark.parametrize("name", MIXERS.names())
def test_mixer_does_not_leak_across_graphs(name):
    torch.manual_seed(0)
    mixer = MIXERS.get(name)(16, 4, 0.0).eval()
    if mixer.reads_ordering:
        mixer.use_ordering(build_ordering(mixer_companions(name)["ordering"]))
    first = _prepared_batch(mixer, (6, 9))
    second = _prepared_batch(mixer, (6, 14), seed=0)  # graph 0 identical, graph 1 larger and different
    x_first = torch.randn(first.num_nodes, 16)
    x_second = torch.cat([x_first[:6], torch.randn(14, 16)])
    with torch.no_grad():
        out_first = mixer(x_first, first.batch, first)[:6]
        out_second = mixer(x_second, second.batch, second)[:6]
    torch.testing.assert_close(out_first, out_second, atol=1e-6, rtol=1e-5)


def test_per_graph_linear_attention_batched_equals_each_graph_alone():
    torch.manual_seed(0)
    sizes = (5, 11, 1, 7)
    data = Batch.from_data_list([Data(num_nodes=n) for n in sizes])
    batch = data.batch
    q, k = torch.rand(sum(sizes), 2, 6), torch.rand(sum(sizes), 2, 6)
    v = torch.randn(sum(sizes), 2, 3)
    batched = per_graph_linear_attention(q, k, v, data)
    alone = torch.cat([per_graph_linear_attention(q[batch == g], k[batch == g], v[batch == g],
                                                  Batch.from_data_list([Data(num_nodes=n)]))
                       for g, n in enumerate(sizes)])
    torch.testing.assert_close(batched, alone)


# ---------------------------------------------------------------- performer

def _performer_error(features: int, x: torch.Tensor, batch: Batch, draws: int = 5) -> float:
    """Mean absolute error of Performer against exact softmax attention with the same weights.
    Query/key norms are kept moderate: the estimator's variance grows like exp(|q| |k| / sqrt(d))."""
    errors = []
    for draw in range(draws):
        torch.manual_seed(draw)
        mixer = Performer(16, 2, 0.0, features=features)
        torch.manual_seed(100)
        torch.nn.init.normal_(mixer.qkv.weight, std=0.1)
        with torch.no_grad():
            exact = naive_attention(mixer, x)
            errors.append((mixer.eval()(x, batch.batch, batch) - exact).abs().mean().item())
    return sum(errors) / draws


def test_performer_converges_to_softmax_attention_as_features_grow():
    torch.manual_seed(0)
    batch = Batch.from_data_list([random_graph(20)])
    x = torch.randn(20, 16)
    coarse, fine = _performer_error(16, x, batch), _performer_error(4096, x, batch)
    assert fine < coarse / 5, (coarse, fine)


def test_performer_attention_rows_sum_to_one():
    """With every value equal to 1 the normalised attention returns exactly 1 (rows of D^-1 A sum to 1)."""
    torch.manual_seed(0)
    sizes = (4, 9)
    data = Batch.from_data_list([Data(num_nodes=n) for n in sizes])
    features = torch.rand(13, 2, 32) + 0.01
    out = per_graph_linear_attention(features, torch.rand(13, 2, 32) + 0.01, torch.ones(13, 2, 1), data, eps=0.0)
    torch.testing.assert_close(out, torch.ones_like(out))


def _favor_reference(mixer: Performer, x: torch.Tensor) -> torch.Tensor:
    """FAVOR+ on one graph ``x [n, hidden]`` as GraphGPS's Performer (performer-pytorch's
    ``softmax_kernel``) writes it: ``phi(x) = (exp(w . x' - |x'|^2 / 2 - max) + 1e-4) / sqrt(m)`` with
    ``x' = x / d^(1/4)`` and ``max`` (detached) the largest ``w_r . x'`` of each query, or over all of
    the graph's keys and features, then ``D^-1 (phi(Q) (phi(K)^T V))`` with ``D = phi(Q) phi(K)^T 1 + 1e-6``."""
    heads, width = mixer.heads, mixer.head_dim
    q, k, v = mixer.qkv(x).view(x.size(0), 3, heads, width).unbind(1)
    projection, m = mixer.projection, mixer.projection.size(0)
    outputs = []
    for h in range(heads):
        def projected(z, h=h):
            z = z[:, h] / width ** 0.25
            return z @ projection.T, (z ** 2).sum(-1, keepdim=True) / 2
        (query_dash, query_norm), (key_dash, key_norm) = projected(q), projected(k)
        query_max, key_max = query_dash.max(-1, keepdim=True).values.detach(), key_dash.max().detach()
        phi_q = (torch.exp(query_dash - query_norm - query_max) + 1e-4) / math.sqrt(m)
        phi_k = (torch.exp(key_dash - key_norm - key_max) + 1e-4) / math.sqrt(m)
        outputs.append(phi_q @ (phi_k.T @ v[:, h]) / (phi_q @ phi_k.sum(0, keepdim=True).T + 1e-6))
    return mixer.out(torch.cat(outputs, dim=-1))


def test_performer_equals_favor_written_out_on_each_graph_of_a_batch():
    """Graphs of several sizes: several blocks, padded slots, one graph of one node."""
    torch.manual_seed(0)
    mixer = Performer(16, 2, 0.0, features=12).eval()
    sizes = (5, 11, 1, 7, 30, 6)
    batch = Batch.from_data_list([random_graph(n, seed=i) for i, n in enumerate(sizes)])
    x = torch.randn(batch.num_nodes, 16) * 2
    with torch.no_grad():
        out = mixer(x, batch.batch, batch)
        reference = torch.cat([_favor_reference(mixer, x[batch.batch == g]) for g in range(len(sizes))])
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=1e-4)


def test_performer_is_finite_where_a_padded_slot_holds_a_far_larger_key():
    """Padded slots hold node 0's row; a graph whose keys are far from node 0's (here its logits lie
    ~100 below) must still see no trace of it: no overflow, the same output as the graph alone."""
    torch.manual_seed(0)
    mixer = Performer(16, 2, 0.0, features=12).eval()
    batch = Batch.from_data_list([random_graph(4, seed=0), random_graph(3, seed=1)])  # one block, graph 1 padded
    x = torch.randn(7, 16)
    x[4:] *= 30
    with torch.no_grad():
        out = mixer(x, batch.batch, batch)
        alone = mixer(x[4:], batch.batch[4:] * 0, Batch.from_data_list([random_graph(3, seed=1)]))
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[4:], alone, atol=1e-5, rtol=1e-4)


def test_performer_runs_in_bfloat16_weights_and_stays_close_to_float32():
    """``train.precision: bf16-true`` makes the weights and the random projection bfloat16."""
    torch.manual_seed(0)
    mixer = Performer(16, 2, 0.0, features=12).eval()
    batch = Batch.from_data_list([random_graph(n, seed=i) for i, n in enumerate((5, 9))])
    x = torch.randn(batch.num_nodes, 16)
    with torch.no_grad():
        full = mixer(x, batch.batch, batch)
        half = mixer.to(torch.bfloat16)(x.bfloat16(), batch.batch, batch)
    assert half.dtype == torch.bfloat16
    torch.testing.assert_close(half.float(), full, atol=0.05, rtol=0.05)


def test_performer_gradients_equal_those_of_favor_written_out():
    torch.manual_seed(0)
    mixer = Performer(16, 2, 0.0, features=12)
    sizes = (3, 9, 8)
    batch = Batch.from_data_list([random_graph(n, seed=i) for i, n in enumerate(sizes)])
    x = torch.randn(batch.num_nodes, 16, requires_grad=True)
    target = torch.randn(batch.num_nodes, 16)
    (mixer(x, batch.batch, batch) * target).sum().backward()
    ours = [x.grad.clone(), mixer.qkv.weight.grad.clone()]
    x.grad, mixer.qkv.weight.grad = None, None
    reference = torch.cat([_favor_reference(mixer, x[batch.batch == g]) for g in range(len(sizes))])
    (reference * target).sum().backward()
    for mine, theirs in zip(ours, [x.grad, mixer.qkv.weight.grad], strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-4)


def test_performer_redraws_features_during_training_only():
    mixer = Performer(16, 2, 0.0, features=8, redraw_interval=2)
    batch = Batch.from_data_list([random_graph(5)])
    x = torch.randn(5, 16)
    initial = mixer.projection.clone()
    mixer.eval()(x, batch.batch, batch)
    mixer.eval()(x, batch.batch, batch)
    mixer.eval()(x, batch.batch, batch)
    assert torch.equal(mixer.projection, initial)
    mixer.train()
    mixer(x, batch.batch, batch)
    mixer(x, batch.batch, batch)
    assert torch.equal(mixer.projection, initial)
    mixer(x, batch.batch, batch)
    assert not torch.equal(mixer.projection, initial)


# ---------------------------------------------------------------- polynormer

def _copy_into_pyg(ours: PolynormerAttention, hidden: int) -> PyGPolynormerAttention:
    pyg = PyGPolynormerAttention(hidden, heads=1, head_channels=hidden, qkv_bias=True, qk_shared=True)
    pyg.h_lins.load_state_dict(ours.gate.state_dict())
    pyg.k.load_state_dict(ours.key.state_dict())
    pyg.v.load_state_dict(ours.value.state_dict())
    pyg.lns.load_state_dict(ours.norm.state_dict())
    pyg.lin_out.load_state_dict(ours.out.state_dict())
    return pyg.eval()


def test_polynormer_equals_pyg_on_each_graph_and_is_not_polluted_by_padding():
    torch.manual_seed(0)
    hidden = 8
    ours = PolynormerAttention(hidden, 1, 0.0).eval()
    pyg = _copy_into_pyg(ours, hidden)
    sizes = (4, 10)
    batch = Batch.from_data_list([random_graph(n, seed=i) for i, n in enumerate(sizes)])
    x = torch.randn(sum(sizes), hidden)
    with torch.no_grad():
        out = ours(x, batch.batch, batch)
        per_graph = torch.cat([pyg(x[batch.batch == g].unsqueeze(0)).squeeze(0) for g in range(2)])
        padded_x = torch.zeros(2, 10, hidden)
        padded_x[0, :4], padded_x[1] = x[:4], x[4:]
        mask = torch.zeros(2, 10, dtype=torch.bool)
        mask[0, :4], mask[1] = True, True
        pyg_padded = pyg(padded_x, mask)[mask]
    torch.testing.assert_close(out, per_graph, atol=1e-5, rtol=1e-4)
    assert (pyg_padded[:4] - per_graph[:4]).abs().max() > 1e-3  # PyG's padded keys leak into graph 0


# ---------------------------------------------------------------- exphormer

def test_expander_is_regular_connected_and_reproducible():
    for n in (10, 31, 200):
        data = ExpanderEdges(degree=3, seed=7)(random_graph(n, seed=n))
        edges = data.expander_edge_index
        out_degree = torch.bincount(edges[0], minlength=n)
        in_degree = torch.bincount(edges[1], minlength=n)
        expected = torch.full((n,), 3)
        if n * 3 % 2:
            assert (out_degree == expected).sum() == n - 1 and out_degree.min() == 2
        else:
            assert torch.equal(out_degree, expected)
        assert torch.equal(in_degree, out_degree)
        graph = nx.MultiGraph(edges.T.tolist())
        graph.add_nodes_from(range(n))
        assert nx.is_connected(graph)
        again = ExpanderEdges(degree=3, seed=7)(random_graph(n, seed=n)).expander_edge_index
        assert torch.equal(edges, again)
        other_seed = ExpanderEdges(degree=3, seed=8)(random_graph(n, seed=n)).expander_edge_index
        assert not torch.equal(edges, other_seed)


def _dense_exphormer(mixer: Exphormer, x: torch.Tensor, data) -> torch.Tensor:
    """Exphormer on one graph as dense masked softmax attention: virtual nodes attend to all nodes, then
    each node attends over the multiset of its in-neighbours (input + expander + virtual)."""
    n, heads, head_dim, count = x.size(0), mixer.heads, mixer.head_dim, mixer.virtual_nodes
    q, k, v = mixer.qkv(x).view(n, 3, heads, head_dim).unbind(1)
    bias = mixer.edge_kind_bias
    virtual_q, _, _ = mixer.qkv(mixer.virtual_embedding).view(count, 3, heads, head_dim).unbind(1)
    gathered = torch.softmax(torch.einsum("vhd,nhd->hvn", virtual_q, k) / math.sqrt(head_dim), dim=-1)
    states = mixer.virtual_embedding + mixer.out(torch.einsum("hvn,nhd->vhd", gathered, v).reshape(count, -1))
    _, virtual_k, virtual_v = mixer.qkv(states).view(count, 3, heads, head_dim).unbind(1)
    keys, values = torch.cat([k, virtual_k]), torch.cat([v, virtual_v])
    # multiplicity-weighted mask: weight[h, i, j] = sum over edges j -> i of exp(bias of the edge's kind)
    weight = torch.zeros(heads, n, n + count)
    for kind, edges in ((0, data.edge_index), (1, data.expander_edge_index)):
        for j, i in edges.T.tolist():
            weight[:, i, j] += bias[kind].exp()
    weight[:, :, n:] += bias[2].exp()[:, None, None]
    scores = torch.einsum("nhd,mhd->hnm", q, keys) / math.sqrt(head_dim) + weight.log()
    attended = torch.einsum("hnm,mhd->nhd", torch.softmax(scores, dim=-1), values)
    return mixer.out(attended.reshape(n, -1))


@pytest.mark.parametrize("virtual_nodes", [1, 2])
def test_exphormer_equals_dense_attention_masked_to_the_interaction_graph(virtual_nodes):
    torch.manual_seed(0)
    mixer = Exphormer(16, 4, 0.0, degree=3, virtual_nodes=virtual_nodes).eval()
    torch.nn.init.normal_(mixer.edge_kind_bias)
    sizes = (7, 12)
    batch = _prepared_batch(mixer, sizes)
    x = torch.randn(batch.num_nodes, 16)
    with torch.no_grad():
        out = mixer(x, batch.batch, batch)
        expected = torch.cat([_dense_exphormer(mixer, x[batch.batch == g], batch.get_example(g)) for g in range(2)])
    assert (out - expected).abs().max() < 1e-5


def test_exphormer_reaches_every_node_in_one_layer_through_virtual_nodes():
    torch.manual_seed(0)
    mixer = Exphormer(16, 2, 0.0, degree=1, virtual_nodes=1).eval()
    graph = random_graph(12, edge_prob=0.0)
    batch = _prepared_batch(mixer, (12,))
    x = torch.randn(12, 16, requires_grad=True)
    mixer(x, batch.batch, batch)[0].sum().backward()
    assert (x.grad.abs().sum(dim=1) > 0).all()
    assert graph.edge_index.numel() == 0


def test_edge_attention_gradients_match_autograd_of_the_plain_formula():
    from torch_geometric.utils import scatter, softmax

    from graphformers.mixers.edge_attention import edge_softmax_attention

    torch.manual_seed(0)
    q, k, v = (torch.randn(n, 2, 3, dtype=torch.float64, requires_grad=True) for n in (4, 6, 6))
    source, target = torch.randint(0, 6, (15,)), torch.randint(0, 4, (15,))
    bias = torch.randn(15, 2, dtype=torch.float64)
    ours = edge_softmax_attention(q, k, v, source, target, 4, bias)
    scores = (q[target] * k[source]).sum(-1) / math.sqrt(3) + bias
    plain = scatter(softmax(scores, target, num_nodes=4).unsqueeze(-1) * v[source], target, 0, dim_size=4)
    torch.testing.assert_close(ours, plain)
    upstream = torch.randn_like(ours)
    grads = torch.autograd.grad((ours * upstream).sum(), (q, k, v))
    expected = torch.autograd.grad((plain * upstream).sum(), (q, k, v))
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want)


def test_exphormer_without_its_expander_says_what_to_do():
    mixer = Exphormer(16, 2, 0.0)
    batch = Batch.from_data_list([random_graph(5)])
    with pytest.raises(ValueError, match="apply this mixer's precompute\\(\\) transform"):
        mixer(torch.randn(5, 16), batch.batch, batch)


def test_a_loaded_performer_redraws_when_the_saved_one_would():
    """The redraw step count kept on the host follows a loaded state dict (a resumed run)."""
    batch = Batch.from_data_list([random_graph(5)])
    x = torch.randn(5, 16)
    saved = Performer(16, 2, 0.0, features=8, redraw_interval=3).train()
    for _ in range(2):
        saved(x, batch.batch, batch)
    loaded = Performer(16, 2, 0.0, features=8, redraw_interval=3).train()
    loaded.load_state_dict(saved.state_dict())
    before = loaded.projection.clone()
    loaded(x, batch.batch, batch)  # third step since the last draw: not yet
    assert torch.equal(loaded.projection, before)
    loaded(x, batch.batch, batch)
    saved(x, batch.batch, batch)
    saved(x, batch.batch, batch)
    assert not torch.equal(loaded.projection, before) and torch.equal(loaded.projection, saved.projection)


def test_performer_redraw_does_not_depend_on_the_global_rng():
    """DDP ranks reseed their global RNGs differently; their redrawn projections must still agree."""
    torch.manual_seed(0)
    first = Performer(16, 2, 0.0, features=8)
    second = Performer(16, 2, 0.0, features=8)
    second.load_state_dict(first.state_dict())
    torch.manual_seed(1)
    first.redraw_features()
    torch.manual_seed(2)
    second.redraw_features()
    assert torch.equal(first.projection, second.projection)
    first.redraw_features()
    assert not torch.equal(first.projection, second.projection)


def _relu_reference(mixer: Performer, x: torch.Tensor) -> torch.Tensor:
    """Generalised attention on one graph ``x [n, hidden]`` as performer-pytorch's
    ``generalized_kernel`` writes it: ``phi(x) = ReLU(w . x / d^(1/4)) + 0.001``, then
    ``phi(Q) (phi(K)^T V) / (phi(Q) phi(K)^T 1)``."""
    heads, width = mixer.heads, mixer.head_dim
    q, k, v = mixer.qkv(x).view(x.size(0), 3, heads, width).unbind(1)
    outputs = []
    for h in range(heads):
        phi_q, phi_k = (torch.relu(z[:, h] / width ** 0.25 @ mixer.projection.T) + 1e-3 for z in (q, k))
        outputs.append(phi_q @ (phi_k.T @ v[:, h]) / (phi_q @ phi_k.sum(0, keepdim=True).T + 1e-6))
    return mixer.out(torch.cat(outputs, dim=-1))


def test_relu_performer_equals_generalised_attention_written_out_gradients_included():
    torch.manual_seed(0)
    mixer = Performer(16, 2, 0.0, features=12, kernel="relu")
    sizes = (5, 11, 1, 7, 30, 6)  # several blocks, padded slots, a graph of one node
    batch = Batch.from_data_list([random_graph(n, seed=i) for i, n in enumerate(sizes)])
    x = torch.randn(batch.num_nodes, 16, requires_grad=True)
    target = torch.randn(batch.num_nodes, 16)
    out = mixer(x, batch.batch, batch)
    reference = torch.cat([_relu_reference(mixer, x[batch.batch == g]) for g in range(len(sizes))])
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=1e-4)
    gradients = torch.autograd.grad((out * target).sum(), (x, mixer.qkv.weight))
    expected = torch.autograd.grad((reference * target).sum(), (x, mixer.qkv.weight))
    for mine, theirs in zip(gradients, expected, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-4)
    softmax = Performer(16, 2, 0.0, features=12)
    softmax.load_state_dict(mixer.state_dict())  # same weights and projection, the other kernel
    assert not torch.allclose(out, softmax(x, batch.batch, batch), atol=1e-3)


def test_performer_refuses_an_unknown_kernel():
    with pytest.raises(PartOptionError, match="kernel 'gelu' is not one of softmax, relu"):
        Performer(16, 2, 0.0, kernel="gelu")
