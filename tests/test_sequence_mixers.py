"""Node orderings and the mixers that scan them (mamba): orders stay within graphs and follow their
keys, the scan equals Mamba's recurrence written out step by step, tie-breaks that move with the
nodes move the output with them, resumed training with random tie-breaks is exact, and each
misconfiguration is one error line."""
from __future__ import annotations

import importlib.util

import networkx as nx
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import permute_graph, random_graph
from helpers.runs import check_resume_is_exact, refused_training, small_quickstart
from mambapy.mamba import MambaBlock, MambaConfig
from test_training import QUICKSTART
from torch_geometric.data import Batch
from torch_geometric.utils import to_networkx

from graphformers.errors import GraphTooLargeError, PartOptionError
from graphformers.mixers.cat import CircularConvolutionalAttention
from graphformers.mixers.mamba import ChunkedMambaBlock, MambaMixer
from graphformers.mixers.sequence import evaluation_tie_breaks
from graphformers.orderings import BreadthFirstOrdering, DegreeOrdering, FiedlerOrdering, NodeOrdering
from graphformers.orderings.base import order_within_graphs
from graphformers.registry import ORDERINGS

SIZES = (6, 1, 9, 4)


class FirstFeatureOrdering(NodeOrdering):
    """A test ordering without ties: by each node's first input feature."""

    def keys(self, data: Batch) -> torch.Tensor:
        return data.x[:, 0]


def _batch(sizes=SIZES, transforms=()) -> Batch:
    graphs = [random_graph(n, edge_prob=0.35, seed=i) for i, n in enumerate(sizes)]
    for transform in transforms:
        graphs = [transform(graph) for graph in graphs]
    return Batch.from_data_list(graphs)


def test_an_order_keeps_every_graphs_positions_and_sorts_by_key_then_tie_break():
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    keys = torch.tensor([2.0, 1.0, 2.0, 5.0, 0.0, 1.0, 1.0, 1.0, 0.0])
    tie_breaks = torch.tensor([0.9, 0.5, 0.1, 0.3, 0.2, 0.2, 0.8, 0.5, 0.7])
    order = order_within_graphs(keys, tie_breaks, batch)
    assert order.tolist() == [1, 2, 0, 4, 3, 8, 5, 7, 6]
    assert torch.equal(batch[order], batch)


def test_degree_keys_are_in_degrees_and_bfs_keys_follow_hop_distance():
    path = Batch.from_data_list([random_graph(1)]).clone()
    path.edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 2, 5], [1, 0, 2, 1, 3, 2, 4, 3, 5, 2]])
    path.num_nodes, path.batch, path.ptr = 6, torch.zeros(6, dtype=torch.long), torch.tensor([0, 6])
    assert DegreeOrdering().keys(path).tolist() == [1, 2, 3, 2, 1, 1]
    keys = BreadthFirstOrdering().keys(path)  # node 2 (degree 3) first, then 1 and 3 (degree 2), then 5, then 0, 4
    order = order_within_graphs(keys, torch.zeros(6), path.batch).tolist()
    assert order[0] == 2 and set(order[1:3]) == {1, 3} and order[3] == 5 and set(order[4:]) == {0, 4}


def test_bfs_keys_of_a_graph_do_not_depend_on_an_empty_graph_beside_it():
    path = random_graph(5)
    path.edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4], [1, 0, 2, 1, 3, 2, 4, 3]])
    empty = random_graph(1)
    empty.x, empty.edge_index, empty.edge_attr, empty.num_nodes = empty.x[:0], empty.edge_index[:, :0], None, 0
    path.edge_attr = None
    alone = BreadthFirstOrdering().keys(Batch.from_data_list([path]))
    beside = BreadthFirstOrdering().keys(Batch.from_data_list([empty, path, empty]))
    torch.testing.assert_close(beside, alone)


def test_the_fiedler_vector_is_the_second_eigenvector_of_the_normalised_laplacian():
    ordering = FiedlerOrdering()
    graph = random_graph(9, edge_prob=0.4, seed=3)
    stored = ordering.precompute()(graph.clone()).fiedler_vector.view(-1).numpy()
    laplacian = nx.normalized_laplacian_matrix(to_networkx(graph, to_undirected=True)).toarray()
    values, vectors = np.linalg.eigh(laplacian)
    assert values[1] > values[0] + 1e-6 and values[2] > values[1] + 1e-6  # simple: the vector is unique up to sign
    expected = vectors[:, 1] * np.sign(vectors[np.argmax(np.abs(vectors[:, 1])), 1])
    np.testing.assert_allclose(stored, expected, atol=1e-5)


@pytest.mark.parametrize("name", ORDERINGS.names())
def test_keys_of_a_relabelled_graph_are_relabelled_where_the_ordering_is_equivariant(name):
    ordering = ORDERINGS.get(name)()
    transform = ordering.precompute()
    graph = random_graph(10, edge_prob=0.3, seed=5)
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(1))
    graphs = [graph, permute_graph(graph, perm)]
    if transform is not None:
        graphs = [transform(g.clone()) for g in graphs]
    keys, permuted_keys = (ordering.keys(Batch.from_data_list([g])) for g in graphs)
    if ordering.equivariant:
        torch.testing.assert_close(permuted_keys, keys[perm], atol=1e-5, rtol=1e-4)
    else:
        assert name == "bfs"


def _mamba_recurrence(block, u: torch.Tensor) -> torch.Tensor:
    """One sequence ``[L, d]`` through a Mamba block, the selective scan written as its recurrence."""
    length = u.size(0)
    x, z = block.in_proj(u).chunk(2, dim=-1)
    taps = block.conv1d.weight.size(-1)
    padded = F.pad(x.T, (taps - 1, 0))  # causal: position t reads t - taps + 1 .. t
    x = F.silu(torch.stack([(padded[:, t:t + taps] * block.conv1d.weight[:, 0]).sum(-1) + block.conv1d.bias
                            for t in range(length)]))
    rank, state = block.dt_proj.weight.size(1), block.A_log.size(1)
    delta, b, c = block.x_proj(x).split([rank, state, state], dim=-1)
    delta = F.softplus(block.dt_proj(delta))  # [L, d_inner]
    a = -torch.exp(block.A_log)  # [d_inner, state]
    h = torch.zeros_like(a)
    ys = []
    for t in range(length):
        h = torch.exp(delta[t][:, None] * a) * h + delta[t][:, None] * b[t][None, :] * x[t][:, None]
        ys.append(h @ c[t] + block.D * x[t])
    return block.out_proj(torch.stack(ys) * F.silu(z))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_mamba_equals_its_recurrence_over_each_graph_in_order(bidirectional):
    torch.manual_seed(0)
    mixer = MambaMixer(16, 4, 0.0, state=4, bidirectional=bidirectional).eval()
    mixer.use_ordering(FirstFeatureOrdering())
    batch = _batch()
    x = torch.randn(batch.num_nodes, 16)
    expected = torch.empty_like(x)
    with torch.no_grad():
        for g in range(batch.num_graphs):
            nodes = (batch.batch == g).nonzero().view(-1)
            nodes = nodes[torch.argsort(batch.x[nodes, 0])]  # the scan order
            out = _mamba_recurrence(mixer.scan, x[nodes])
            if bidirectional:
                out = out + _mamba_recurrence(mixer.reverse_scan, x[nodes].flip(0)).flip(0)
            expected[nodes] = out
        torch.testing.assert_close(mixer(x, batch.batch, batch), expected, atol=1e-5, rtol=1e-4)


def _cat_dense(mixer: CircularConvolutionalAttention, x: torch.Tensor) -> torch.Tensor:
    """CAT on one graph's nodes in scan order ``[n, d]``: y_i = sum_j z_((i - j) mod n) v_j per head."""
    n, heads = x.size(0), mixer.heads
    z = torch.softmax(mixer.scores(x), dim=0)  # [n, heads]
    v = mixer.value(x).view(n, heads, -1)
    circulant = torch.stack([torch.stack([z[(i - j) % n] for j in range(n)]) for i in range(n)])  # [n, n, heads]
    return mixer.out(torch.einsum("ijh,jhw->ihw", circulant, v).reshape(n, -1))


@pytest.mark.parametrize("heads", [1, 4])
def test_cat_equals_its_circular_convolution_over_each_graph_in_order(heads):
    torch.manual_seed(0)
    mixer = CircularConvolutionalAttention(16, heads, 0.0).eval()
    mixer.use_ordering(FirstFeatureOrdering())
    batch = _batch((6, 1, 9, 4, 7, 3))
    x = torch.randn(batch.num_nodes, 16)
    expected = torch.empty_like(x)
    with torch.no_grad():
        for g in range(batch.num_graphs):
            nodes = (batch.batch == g).nonzero().view(-1)
            nodes = nodes[torch.argsort(batch.x[nodes, 0])]
            expected[nodes] = _cat_dense(mixer, x[nodes])
        torch.testing.assert_close(mixer(x, batch.batch, batch), expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("conv", [4, 1])
def test_the_chunked_block_equals_mambapys_whole_block_and_its_gradients(conv):
    torch.manual_seed(0)
    config = MambaConfig(d_model=8, n_layers=1, d_state=4, expand_factor=2, d_conv=conv)
    chunked = ChunkedMambaBlock(config)
    chunked.chunk = 4  # 13 steps: chunks of 4, 4, 4 and 1, each carrying the convolution context and the state
    whole = MambaBlock(config)
    whole.load_state_dict(chunked.state_dict())
    x = torch.randn(2, 13, 8, requires_grad=True)
    expected, actual = whole(x), chunked(x)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-4)
    weights = torch.randn_like(expected)
    grads = [torch.autograd.grad((out * weights).sum(), [x, *block.parameters()])
             for out, block in ((expected, whole), (actual, chunked))]
    for want, got in zip(*grads, strict=True):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available() or importlib.util.find_spec("mamba_ssm") is None,
                    reason="mamba-ssm's kernels run only on a CUDA GPU, with pip install 'graphformers[mamba-cuda]'")
def test_mamba_ssms_cuda_kernels_agree_with_the_torch_scan_in_values_and_gradients():
    torch.manual_seed(0)
    batch = _batch((6, 1, 40, 9)).to("cuda")
    scans = [MambaMixer(16, 1, 0.0, state=4, bidirectional=True, kernels=kernels).cuda().eval()
             for kernels in ("torch", "cuda")]  # eval: both scan the same seeded order
    scans[1].load_state_dict(scans[0].state_dict())
    x = torch.randn(batch.num_nodes, 16, device="cuda")
    results = []
    for mixer in scans:
        mixer.use_ordering(DegreeOrdering())
        inputs = x.clone().requires_grad_()
        out = mixer(inputs, batch.batch, batch)
        results.append((out, *torch.autograd.grad(out.square().sum(), [inputs, *mixer.parameters()])))
    for want, got in zip(*results, strict=True):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-3)


def test_tie_breaks_that_move_with_the_nodes_move_the_output_with_them():
    torch.manual_seed(0)
    mixer = MambaMixer(16, 4, 0.0, bidirectional=True).eval()
    mixer.use_ordering(DegreeOrdering())  # many ties: the tie-breaks decide much of the order
    graph = random_graph(12, edge_prob=0.3, seed=2)
    perm = torch.randperm(12)
    permuted = permute_graph(graph, perm)
    x, tie_breaks = torch.randn(12, 16), torch.rand(12)
    with torch.no_grad():
        data, permuted_data = Batch.from_data_list([graph]), Batch.from_data_list([permuted])
        out = mixer._in_order(x, mixer.ordering.keys(data), tie_breaks, data)
        out_permuted = mixer._in_order(x[perm], mixer.ordering.keys(permuted_data), tie_breaks[perm], permuted_data)
    torch.testing.assert_close(out_permuted, out[perm], atol=1e-5, rtol=1e-4)


def test_evaluation_averages_its_seeded_orderings_and_repeats_itself():
    torch.manual_seed(0)
    mixer = MambaMixer(16, 4, 0.0, eval_orderings=3).eval()
    mixer.use_ordering(DegreeOrdering())
    batch = _batch()
    x = torch.randn(batch.num_nodes, 16)
    keys = mixer.ordering.keys(batch)
    with torch.no_grad():
        draws = [mixer._in_order(x, keys, evaluation_tie_breaks(batch, seed), batch) for seed in range(3)]
        out = mixer(x, batch.batch, batch)
        torch.testing.assert_close(out, sum(draws) / 3)
        assert torch.equal(mixer(x, batch.batch, batch), out)
        assert not torch.allclose(draws[0], draws[1])  # the orderings differ: averaging them is not a no-op
        last = batch.to_data_list()[-1]  # alone, the last graph is ordered as it was in the batch
        alone = mixer(x[batch.batch == batch.num_graphs - 1], torch.zeros(last.num_nodes, dtype=torch.long),
                      Batch.from_data_list([last]))
        torch.testing.assert_close(alone, out[batch.batch == batch.num_graphs - 1], atol=1e-5, rtol=1e-4)


def test_resumed_training_with_random_tie_breaks_equals_uninterrupted_training(tmp_path):
    overrides = [*small_quickstart(48, 16, 16), "data.batch_size=16", "train.max_epochs=3", "model.mixer=mamba",
                 "model.ordering=degree", "model.hidden=32", "model.attn_dropout=0.2", "train.progress_bar=false"]
    check_resume_is_exact(QUICKSTART, overrides, tmp_path)


@pytest.mark.parametrize(("overrides", "message"), [
    (["model.mixer=mamba"], "scans each graph's nodes in an order, but model.ordering is not set"),
    (["model.mixer=full", "model.ordering=degree"], "model.ordering is set, but the mixer FullAttention reads no "
                                                   "node order"),
    (["model.mixer={name: mamba, kernels: cuda}", "model.ordering=degree"],
     "kernels: cuda needs the mamba-ssm package, which is not installed; pip install 'graphformers[mamba-cuda]'"),
    (["model.mixer={name: mamba, state: 0}", "model.ordering=degree"], "mixer mamba's state must be at least 1"),
    (["model.mixer=mamba", "model.ordering=spd"], "model.ordering"),
])
def test_a_mixer_and_ordering_that_cannot_work_are_one_error_line(capsys, tmp_path, overrides, message):
    line = refused_training(capsys, [str(QUICKSTART), *small_quickstart(), *overrides, f"train.out_dir={tmp_path}"])
    assert message in line
    assert not any(tmp_path.iterdir())


def test_mamba_refuses_an_option_it_does_not_have():
    with pytest.raises(PartOptionError, match="kernels must be torch or cuda"):
        MambaMixer(8, 1, 0.0, kernels="triton")


def test_mamba_refuses_a_graph_its_scan_cannot_keep_in_memory_with_the_estimate(monkeypatch):
    monkeypatch.setattr("graphformers.mixers.mamba.machine_memory_bytes", lambda: 24 << 30)
    mixer = MambaMixer(64, 4, 0.0, bidirectional=True)
    mixer.check_graph_size(10**6)  # 2 blocks x 3 x 64 floats a node (+ a chunk's): 1.5 GiB, within half of 24 GiB
    with pytest.raises(GraphTooLargeError, match=r"mixer mamba on a graph of 10,000,000 nodes keeps about 14\.3 "
                                                 r"GiB per layer .* above the 12\.0 GiB"):
        mixer.check_graph_size(10**7)
