"""Laplacian eigenvectors and random-walk encodings against networkx / numpy references."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import from_networkx

from graphformers.encoders import LapPE, LaplacianEigenvectors, RandomWalkLandingProbabilities, RWSE


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


def test_laplacian_isolated_node_follows_pyg_convention():
    """An isolated node has L_ii = 1 (PyG), so its indicator vector is an eigenvector with eigenvalue 1."""
    graph = nx.path_graph(5)
    graph.add_node(5)
    data = LaplacianEigenvectors(5)(_graph(graph))
    isolated_column = data.lap_eigvec[5].abs().argmax()
    assert data.lap_eigvec[5, isolated_column].abs() == pytest.approx(1.0, abs=1e-5)
    assert data.lap_eigval[0, isolated_column] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("graph", _test_graphs() + [nx.empty_graph(3)], ids=["erdos", "watts", "disconnected", "small", "edgeless"])
def test_random_walk_landing_probabilities_match_dense_matrix_powers(graph):
    steps = 7
    data = RandomWalkLandingProbabilities(steps)(_graph(graph))
    adjacency = nx.to_numpy_array(graph, nodelist=sorted(graph.nodes))
    degree = adjacency.sum(axis=1, keepdims=True)
    transition = np.divide(adjacency, degree, out=np.zeros_like(adjacency), where=degree > 0)
    expected = np.stack([np.diag(np.linalg.matrix_power(transition, t)) for t in range(1, steps + 1)], axis=-1)
    np.testing.assert_allclose(data.rwse.numpy(), expected, atol=1e-6)


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
