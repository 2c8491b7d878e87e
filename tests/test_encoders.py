"""Laplacian eigenvectors and random-walk encodings against networkx / numpy references."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import from_networkx

from graphformers.encoders import RWSE, LaplacianEigenvectors, LapPE, RandomWalkLandingProbabilities
from graphformers.encoders.precompute import DENSE_LIMIT, compute_node_encodings


def _graph(graph: nx.Graph) -> Data:
    data = from_networkx(nx.convert_node_labels_to_integers(graph))
    data.num_nodes = graph.number_of_nodes()
    return data


def _test_graphs() -> list[nx.Graph]:
    disconnected = nx.disjoint_union(nx.cycle_graph(5), nx.path_graph(4))
    return [
        nx.erdos_renyi_graph(20, 0.25, seed=1),
        nx.connected_watts_strogatz_graph(30, 4, 0.2, seed=2),
        disconnected,
        nx.path_graph(4),  # fewer than k + 1 nodes: padded
    ]


@pytest.mark.parametrize("graph", _test_graphs(), ids=["erdos", "watts", "disconnected", "small"])
def test_laplacian_eigenvectors_are_orthonormal_eigenpairs_of_the_normalised_laplacian(graph):
    k = 6
    data = LaplacianEigenvectors(k)(_graph(graph))
    laplacian = nx.normalized_laplacian_matrix(graph, nodelist=sorted(graph.nodes)).toarray()
    reference_values = np.linalg.eigvalsh(laplacian)
    kept = min(k, graph.number_of_nodes() - 1)
    vectors = data.lap_eigvec.double().numpy()
    values = data.lap_eigval[0].double().numpy()
    assert data.lap_eigvec.shape == data.lap_eigval.shape == (graph.number_of_nodes(), k)
    assert torch.equal(data.lap_eigval, data.lap_eigval[:1].expand_as(data.lap_eigval))
    np.testing.assert_allclose(values[:kept], reference_values[1 : kept + 1], atol=1e-5)
    np.testing.assert_allclose(laplacian @ vectors[:, :kept], vectors[:, :kept] * values[:kept], atol=1e-5)
    np.testing.assert_allclose(vectors[:, :kept].T @ vectors[:, :kept], np.eye(kept), atol=1e-5)
    assert not vectors[:, kept:].any() and not values[kept:].any()


@pytest.mark.parametrize("graph", _test_graphs(), ids=["erdos", "watts", "disconnected", "small"])
def test_random_walk_normalisation_gives_eigenpairs_of_i_minus_d_inverse_a(graph):
    k = 5
    data = LaplacianEigenvectors(k, normalization="rw")(_graph(graph))
    adjacency = nx.to_numpy_array(graph, nodelist=sorted(graph.nodes))
    walk_laplacian = np.eye(len(adjacency)) - adjacency / adjacency.sum(axis=1, keepdims=True)
    kept = min(k, graph.number_of_nodes() - 1)
    vectors, values = data.lap_eigvec.double().numpy()[:, :kept], data.lap_eigval[0].double().numpy()[:kept]
    reference = np.sort(np.linalg.eigvals(walk_laplacian).real)
    np.testing.assert_allclose(values, reference[1 : kept + 1], atol=1e-5)
    np.testing.assert_allclose(walk_laplacian @ vectors, vectors * values, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=0), 1.0, atol=1e-5)


@pytest.mark.parametrize("graph", _test_graphs(), ids=["erdos", "watts", "disconnected", "small"])
def test_unnormalised_laplacian_matches_networkx(graph):
    k = 5
    data = LaplacianEigenvectors(k, normalization="none")(_graph(graph))
    laplacian = nx.laplacian_matrix(graph, nodelist=sorted(graph.nodes)).toarray().astype(float)
    kept = min(k, graph.number_of_nodes() - 1)
    vectors, values = data.lap_eigvec.double().numpy()[:, :kept], data.lap_eigval[0].double().numpy()[:kept]
    np.testing.assert_allclose(values, np.linalg.eigvalsh(laplacian)[1 : kept + 1], atol=1e-5)
    np.testing.assert_allclose(laplacian @ vectors, vectors * values, atol=1e-4)


def test_laplacian_isolated_node_follows_pyg_convention():
    """An isolated node has L_ii = 1 (PyG), so its indicator vector is an eigenvector with eigenvalue 1."""
    graph = nx.path_graph(5)
    graph.add_node(5)
    data = LaplacianEigenvectors(5)(_graph(graph))
    isolated_column = data.lap_eigvec[5].abs().argmax()
    assert data.lap_eigvec[5, isolated_column].abs() == pytest.approx(1.0, abs=1e-5)
    assert data.lap_eigval[0, isolated_column] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("graph", _test_graphs() + [nx.empty_graph(3)],
                         ids=["erdos", "watts", "disconnected", "small", "edgeless"])
def test_random_walk_landing_probabilities_match_dense_matrix_powers(graph):
    steps = 7
    data = RandomWalkLandingProbabilities(steps)(_graph(graph))
    adjacency = nx.to_numpy_array(graph, nodelist=sorted(graph.nodes))
    degree = adjacency.sum(axis=1, keepdims=True)
    transition = np.divide(adjacency, degree, out=np.zeros_like(adjacency), where=degree > 0)
    expected = np.stack([np.diag(np.linalg.matrix_power(transition, t)) for t in range(1, steps + 1)], axis=-1)
    np.testing.assert_allclose(data.rwse.numpy(), expected, atol=1e-6)


def _mixed_graphs() -> list[Data]:
    """Sizes repeat (batched together) and vary; includes isolated nodes, an edgeless and a one-node graph."""
    graphs = [nx.erdos_renyi_graph(n, 0.3, seed=seed) for seed, n in enumerate([12, 7, 12, 30, 7, 12, 45])]
    graphs += [nx.disjoint_union(nx.path_graph(6), nx.empty_graph(2)), nx.empty_graph(4), nx.empty_graph(1)]
    return [_graph(graph) for graph in graphs]


@pytest.mark.parametrize("transform", [LaplacianEigenvectors(4), LaplacianEigenvectors(4, "rw"),
                                       RandomWalkLandingProbabilities(6)], ids=repr)
def test_batched_precompute_equals_one_graph_at_a_time(transform):
    """Same-size graphs share one batched call: the encodings must not depend on the company."""
    graphs = _mixed_graphs()
    batched = compute_node_encodings(graphs, [transform])
    for name, values in batched.items():
        single = torch.cat([compute_node_encodings([graph], [transform])[name] for graph in graphs])
        torch.testing.assert_close(values.abs(), single.abs(), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("dense_limit", [DENSE_LIMIT, 10])
def test_worker_threads_and_processes_give_the_same_encodings(dense_limit):
    """Dense stacks on threads; graphs above ``dense_limit`` nodes on forked processes."""
    graphs = _mixed_graphs()
    transforms = [RandomWalkLandingProbabilities(5), LaplacianEigenvectors(3)]
    inline = compute_node_encodings(graphs, transforms, dense_limit)
    forked = compute_node_encodings(graphs, transforms, dense_limit, workers=2)
    for name in inline:
        torch.testing.assert_close(forked[name], inline[name])


@pytest.mark.parametrize("normalization", ["sym", "rw", "none"])
def test_sparse_laplacian_path_finds_the_dense_eigenpairs(normalization):
    graph = _graph(nx.connected_watts_strogatz_graph(80, 4, 0.3, seed=3))
    transform = LaplacianEigenvectors(4, normalization)
    dense = compute_node_encodings([graph], [transform])
    sparse = compute_node_encodings([graph], [transform], dense_limit=20)
    torch.testing.assert_close(sparse["lap_eigval"], dense["lap_eigval"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(sparse["lap_eigvec"].abs(), dense["lap_eigvec"].abs(), atol=1e-4, rtol=1e-3)


def test_sparse_random_walk_path_is_exact():
    graph = nx.disjoint_union(nx.connected_watts_strogatz_graph(50, 4, 0.3, seed=4), nx.empty_graph(3))
    transform = RandomWalkLandingProbabilities(9)
    dense = compute_node_encodings([_graph(graph)], [transform])
    sparse = compute_node_encodings([_graph(graph)], [transform], dense_limit=20)
    torch.testing.assert_close(sparse["rwse"], dense["rwse"], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("embedding", ["linear", "deepset", "signnet"])
def test_lappe_embeddings_ignore_padding_slots(embedding):
    """A graph smaller than k embeds the same whatever sits in its padded eigenpair slots."""
    torch.manual_seed(0)
    graphs = [LaplacianEigenvectors(6)(_graph(graph)) for graph in (nx.path_graph(4), nx.cycle_graph(9))]
    batch = Batch.from_data_list(graphs)
    encoder = LapPE(dim=8, k=6, embedding=embedding).eval()
    noisy = batch.clone()
    noisy.lap_eigvec[:4, 3:] = torch.randn(4, 3)
    noisy.lap_eigval[:4, 3:] = torch.randn(4, 3)
    torch.testing.assert_close(encoder(noisy), encoder(batch))


def test_signnet_lappe_is_invariant_to_eigenvector_signs():
    torch.manual_seed(0)
    graphs = [LaplacianEigenvectors(5)(_graph(nx.erdos_renyi_graph(n, 0.3, seed=n))) for n in (8, 11)]
    batch = Batch.from_data_list(graphs)
    encoder = LapPE(dim=8, k=5, embedding="signnet")
    flipped = batch.clone()
    flipped.lap_eigvec = batch.lap_eigvec * (torch.randint(0, 2, (2, 5)) * 2 - 1)[batch.batch]
    torch.testing.assert_close(encoder(flipped), encoder(batch))
    linear = LapPE(dim=8, k=5).eval()
    assert not torch.allclose(linear(flipped), linear(batch))


def test_lappe_flips_signs_only_in_training():
    torch.manual_seed(0)
    encoder = LapPE(dim=8, k=4)
    graphs = [LaplacianEigenvectors(4)(_graph(nx.cycle_graph(n))) for n in (6, 9)]
    batch = Batch.from_data_list(graphs)
    encoder.eval()
    torch.testing.assert_close(encoder(batch), encoder(batch))
    encoder.train()
    draws = torch.stack([encoder(batch) for _ in range(8)])
    assert not torch.allclose(draws[0], draws[1:].mean(0))


def test_rwse_encoder_embeds_to_dim():
    data = RandomWalkLandingProbabilities(5)(_graph(nx.cycle_graph(6)))
    assert RWSE(dim=4, steps=5)(Batch.from_data_list([data])).shape == (6, 4)


@pytest.mark.parametrize("transform", [LaplacianEigenvectors, RandomWalkLandingProbabilities])
def test_transforms_reject_nonpositive_sizes(transform):
    with pytest.raises(ValueError, match=">= 1"):
        transform(0)
