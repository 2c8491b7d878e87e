"""GPS layers and models are permutation-equivariant (node level) / invariant (graph level)."""
from __future__ import annotations

import pytest
import torch
from conftest import permute_graph, random_graph, task_info
from torch_geometric.data import Batch

from graphformers.errors import PartOptionError
from graphformers.layers import GPSLayer
from graphformers.models import GPSModel
from graphformers.models.parts import build_local, build_mixer
from graphformers.recipe import ModelConfig, PartSpec
from graphformers.registry import LOCAL_BLOCKS, MIXERS

SIZES = (6, 11, 3, 8)


def _graphs_and_permuted(transforms=()):
    """A batch, the same batch with every graph permuted, and the permutations. Transforms
    (encodings, expander graphs) run before permuting, so their output is permuted too."""
    torch.manual_seed(1)
    graphs = [random_graph(n, seed=10 + i) for i, n in enumerate(SIZES)]
    for transform in transforms:
        graphs = [transform(g) for g in graphs]
    perms = [torch.randperm(n) for n in SIZES]
    permuted = [permute_graph(g, p) for g, p in zip(graphs, perms, strict=True)]
    return Batch.from_data_list(graphs), Batch.from_data_list(permuted), perms


def _batch_permutation(perms) -> torch.Tensor:
    offsets = torch.cumsum(torch.tensor((0,) + SIZES[:-1]), 0)
    return torch.cat([p + o for p, o in zip(perms, offsets, strict=True)])


EQUIVARIANT_MIXERS = [name for name in MIXERS.names() if not MIXERS.get(name).reads_ordering]
"""Mixers that scan nodes in order break ties by per-position draws: tests/test_sequence_mixers.py checks that
moving the draws with the nodes moves the output with them."""


def _architectures():
    for local in LOCAL_BLOCKS.names():
        for mixer in EQUIVARIANT_MIXERS + ["none"]:
            yield local, mixer
    for mixer in EQUIVARIANT_MIXERS:
        yield "none", mixer


@pytest.mark.parametrize("local,mixer", list(_architectures()))
def test_gps_layer_is_permutation_equivariant(local, mixer):
    torch.manual_seed(0)
    hidden = 16
    layer = GPSLayer(hidden, build_local(PartSpec(local), hidden), build_mixer(PartSpec(mixer), hidden, 4, 0.0)).eval()
    mixer_transform = layer.mixer.precompute() if layer.mixer is not None else None
    batch, permuted, perms = _graphs_and_permuted([mixer_transform] if mixer_transform else [])
    embed = torch.nn.Linear(batch.x.size(1), hidden)
    edge_embed = torch.nn.Linear(batch.edge_attr.size(1), hidden)
    with torch.no_grad():
        out, _ = layer(embed(batch.x), edge_embed(batch.edge_attr), batch)
        out_permuted, _ = layer(embed(permuted.x), edge_embed(permuted.edge_attr), permuted)
    assert out.shape == (sum(SIZES), hidden)
    torch.testing.assert_close(out[_batch_permutation(perms)], out_permuted, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("local,mixer", [(local, "full") for local in LOCAL_BLOCKS.names()]
                         + [("gine", mixer) for mixer in EQUIVARIANT_MIXERS])
@pytest.mark.parametrize("level", ["node", "graph"])
def test_gps_model_is_permutation_equivariant_or_invariant(local, mixer, level):
    torch.manual_seed(0)
    config = ModelConfig(hidden=24, layers=2, heads=4, local=PartSpec(local), mixer=PartSpec(mixer),
                         encoders=[PartSpec("rwse", {"dim": 8, "steps": 5})])
    model = GPSModel(config, task_info(level)).eval()
    batch, permuted, perms = _graphs_and_permuted(model.precompute_transforms())
    with torch.no_grad():
        out, out_permuted = model(batch), model(permuted)
    if level == "node":
        assert out.shape == (sum(SIZES), 3)
        torch.testing.assert_close(out[_batch_permutation(perms)], out_permuted, atol=1e-5, rtol=1e-4)
    else:
        assert out.shape == (len(SIZES), 3)
        torch.testing.assert_close(out, out_permuted, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("mixer", MIXERS.names())
def test_a_batch_of_only_empty_graphs_gets_one_prediction_per_graph(mixer):
    """Graphs without nodes (a molecule RDKit reads as empty) give the readout's bias alone, whatever the mixer.
    Each mixer parameter still gets a (zero) gradient, as DDP's ``static_graph`` expects of every rank: the
    mixers on size blocks run on one empty block, the ordered ones (scans) return ``without_nodes``."""
    ordering = PartSpec("degree") if MIXERS.get(mixer).reads_ordering else None
    config = ModelConfig(hidden=16, layers=2, heads=4, local=PartSpec("gine"), mixer=PartSpec(mixer), ordering=ordering)
    model = GPSModel(config, task_info("graph")).train()
    graphs = [random_graph(0, seed=k) for k in range(3)]
    for transform in model.precompute_transforms():
        graphs = [transform(g) for g in graphs]
    out = model(Batch.from_data_list(graphs))
    assert out.shape == (3, 3) and torch.isfinite(out).all()
    out.sum().backward()
    mixer_parameters = [(name, p) for name, p in model.named_parameters() if ".mixer." in name]
    assert mixer_parameters and all(p.grad is not None for _, p in mixer_parameters), \
        [name for name, p in mixer_parameters if p.grad is None]
    assert all(not p.grad.any() for _, p in mixer_parameters)  # nothing to learn from no nodes


def test_layer_rejects_no_local_and_no_mixer():
    with pytest.raises(PartOptionError, match="model.local and model.mixer are both none"):
        GPSLayer(16, None, None)


def test_model_rejects_encoders_wider_than_hidden():
    config = ModelConfig(hidden=16, encoders=[PartSpec("rwse", {"dim": 16})])
    with pytest.raises(PartOptionError, match="dims add up to 16, which leaves no room in model.hidden \\(16\\)"):
        GPSModel(config, task_info())


def test_gatedgcn_updates_edge_features():
    torch.manual_seed(0)
    layer = GPSLayer(16, local=LOCAL_BLOCKS.get("gatedgcn")(16)).eval()
    batch, _, _ = _graphs_and_permuted()
    edge_attr = torch.randn(batch.edge_index.size(1), 16)
    _, edge_out = layer(torch.randn(batch.num_nodes, 16), edge_attr, batch)
    assert edge_out.shape == edge_attr.shape
    assert not torch.allclose(edge_out, edge_attr)


def test_gatedgcn_matches_its_formula():
    """Node i: ReLU(BN(A x_i + sum_j s_ij B x_j / (sum_j s_ij + eps))) with s_ij = sigmoid(D x_i + E x_j + C e_ij)."""
    torch.manual_seed(0)
    block = LOCAL_BLOCKS.get("gatedgcn")(8).eval()
    x, edge_index, edge_attr = torch.randn(5,
                                           8), torch.tensor([[0, 1, 2, 3, 4, 0], [1, 0, 1, 1, 0, 4]]), torch.randn(6, 8)
    nodes, edges = block(x, edge_index, edge_attr)
    for i in range(5):
        incoming = (edge_index[1] == i).nonzero().flatten().tolist()
        logits = {e: block.gate_target(x[i]) + block.gate_source(x[edge_index[0, e]]) + block.gate_edge(edge_attr[e])
                  for e in incoming}
        total = sum((torch.sigmoid(logits[e]) * block.node_neighbour(x[edge_index[0, e]]) for e in incoming),
                    torch.zeros(8))
        norm = sum((torch.sigmoid(logits[e]) for e in incoming), torch.zeros(8))
        pre = block.node_self(x[i]) + total / (norm + 1e-6)
        expected = torch.relu(block.node_norm(pre.unsqueeze(0))).squeeze(0)
        torch.testing.assert_close(nodes[i], expected, atol=1e-5, rtol=1e-4)
        for e in incoming:
            torch.testing.assert_close(edges[e], edge_attr[e] + torch.relu(block.edge_norm(logits[e].unsqueeze(0))[0]),
                                       atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("edge_linear", [False, True], ids=["graphgps", "edge-linear"])
def test_gine_matches_its_formula(edge_linear):
    """Node i: MLP((1 + eps) x_i + sum_j ReLU(x_j + e_ji)), e passed through a learned linear map
    only with ``edge_linear`` (GraphGPS's GINE has none)."""
    torch.manual_seed(0)
    block = LOCAL_BLOCKS.get("gine")(8, edge_linear=edge_linear).eval()
    with torch.no_grad():
        block.conv.eps.fill_(0.25)
    x, edge_index, edge_attr = torch.randn(5,
                                           8), torch.tensor([[0, 1, 2, 3, 4, 0], [1, 0, 1, 1, 0, 4]]), torch.randn(6, 8)
    edges = block.conv.lin(edge_attr) if edge_linear else edge_attr
    assert (block.conv.lin is not None) == edge_linear
    nodes = block(x, edge_index, edge_attr)
    for i in range(5):
        messages = sum((torch.relu(x[edge_index[0, e]] + edges[e]) for e in (edge_index[1] == i).nonzero().flatten()),
                       torch.zeros(8))
        torch.testing.assert_close(nodes[i], block.conv.nn(1.25 * x[i] + messages), atol=1e-5, rtol=1e-4)


def test_model_accepts_a_single_graph():
    torch.manual_seed(0)
    config = ModelConfig(hidden=16, layers=1, heads=4, encoders=[PartSpec("lap", {"dim": 4, "k": 3})])
    model = GPSModel(config, task_info("graph")).eval()
    graph = model.precompute_transforms()[0](random_graph(6))
    assert model(graph).shape == (1, 3)


@pytest.mark.parametrize("encoder", [
    PartSpec("lap", {"dim": 8, "k": 4, "embedding": "signnet"}),
    PartSpec("lap", {"dim": 8, "k": 4, "embedding": "signnet", "normalization": "rw"}),
    PartSpec("maglap", {"dim": 8, "k": 4, "embedding": "signnet", "relative": True}),
], ids=["lap-signnet", "lap-rw-signnet", "maglap-signnet"])
def test_sign_invariant_encoders_keep_the_model_permutation_invariant(encoder):
    """An eigensolver may return any sign for each eigenvector of a relabelled graph (here:
    drawn at random); with a SignNet embedding the model's output must not change."""
    torch.manual_seed(0)
    config = ModelConfig(hidden=24, layers=2, heads=4, encoders=[encoder])
    model = GPSModel(config, task_info("graph")).eval()
    batch, permuted, _ = _graphs_and_permuted(model.precompute_transforms())
    signs = (torch.randint(0, 2, (permuted.num_graphs, 4)) * 2 - 1).float()[permuted.batch]
    for name in ("lap_eigvec", "maglap_real", "maglap_imag"):
        if name in permuted:
            permuted[name] = permuted[name] * signs
    with torch.no_grad():
        torch.testing.assert_close(model(batch), model(permuted), atol=1e-4, rtol=1e-4)
