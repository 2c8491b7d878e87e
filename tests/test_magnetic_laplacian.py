"""The magnetic Laplacian and its positional encoding, against closed forms and scipy/networkx references."""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import scipy.linalg
import torch
from torch_geometric.data import Batch, Data

from graphformers.encoders import MagLapPE, MagneticLaplacianEigenvectors
from graphformers.encoders.precompute import compute_node_encodings
from graphformers.encoders.spectral import dense_directed_adjacency, magnetic_laplacian


def _maglap(edge_index: torch.Tensor, n: int, q: float) -> torch.Tensor:
    directed = dense_directed_adjacency(edge_index, torch.zeros(edge_index.size(1), dtype=torch.long), 1, n)
    return magnetic_laplacian(directed, q)[0]


def _random_digraph(n: int, p: float, seed: int) -> Data:
    graph = nx.gnp_random_graph(n, p, seed=seed, directed=True)
    edge_index = torch.tensor(list(graph.edges), dtype=torch.long).T.reshape(2, -1)
    return Data(edge_index=edge_index, num_nodes=n)


@pytest.mark.parametrize("q", [0.0, 0.1, 0.25])
def test_magnetic_laplacian_is_hermitian_psd_with_spectrum_in_0_2(q):
    data = _random_digraph(15, 0.2, seed=1)
    laplacian = _maglap(data.edge_index, 15, q).numpy()
    np.testing.assert_allclose(laplacian, laplacian.conj().T, atol=1e-12)
    eigvals = scipy.linalg.eigvalsh(laplacian)
    assert eigvals.min() > -1e-10 and eigvals.max() < 2 + 1e-10


def test_magnetic_laplacian_at_q0_is_the_symmetric_normalised_laplacian():
    data = _random_digraph(12, 0.25, seed=2)
    undirected = nx.Graph()
    undirected.add_nodes_from(range(12))
    undirected.add_edges_from(data.edge_index.T.tolist())
    isolated = [v for v in undirected if undirected.degree(v) == 0]
    reference = nx.normalized_laplacian_matrix(undirected, nodelist=range(12)).toarray()
    reference[isolated, isolated] = 1.0  # PyG's convention for isolated nodes (networkx uses 0)
    np.testing.assert_allclose(_maglap(data.edge_index, 12, 0.0).numpy(), reference, atol=1e-12)


def test_encoding_eigenpairs_satisfy_the_eigen_equation_against_scipy():
    data = MagneticLaplacianEigenvectors(k=5, q=0.2)(_random_digraph(14, 0.2, seed=3))
    laplacian = _maglap(data.edge_index, 14, 0.2).numpy()
    vectors = data.maglap_real.double().numpy() + 1j * data.maglap_imag.double().numpy()
    values = data.maglap_eigval[0].double().numpy()
    np.testing.assert_allclose(values, scipy.linalg.eigvalsh(laplacian)[:5], atol=1e-5)
    np.testing.assert_allclose(laplacian @ vectors, vectors * values, atol=1e-5)
    np.testing.assert_allclose(vectors.conj().T @ vectors, np.eye(5), atol=1e-5)


def test_reversing_every_edge_conjugates_the_eigenvectors():
    data = _random_digraph(10, 0.3, seed=4)
    reversed_data = Data(edge_index=data.edge_index.flip(0), num_nodes=10)
    transform = MagneticLaplacianEigenvectors(k=4, q=0.25)
    forward, backward = transform(data.clone()), transform(reversed_data)
    torch.testing.assert_close(backward.maglap_eigval, forward.maglap_eigval)
    torch.testing.assert_close(backward.maglap_real, forward.maglap_real, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(backward.maglap_imag, -forward.maglap_imag, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("n,q", [(7, 0.25), (10, 0.1), (6, 0.0)])
def test_directed_cycle_spectrum_matches_the_closed_form(n, q):
    cycle = torch.stack([torch.arange(n), (torch.arange(n) + 1) % n])
    eigvals = np.linalg.eigvalsh(_maglap(cycle, n, q).numpy())
    expected = np.sort([1 - math.cos(2 * math.pi * q + 2 * math.pi * j / n) for j in range(n)])
    np.testing.assert_allclose(eigvals, expected, atol=1e-12)


def test_small_graphs_are_padded_and_the_encoder_embeds():
    graphs = [MagneticLaplacianEigenvectors(k=6)(_random_digraph(n, 0.5, seed=n)) for n in (3, 9)]
    assert not graphs[0].maglap_real[:, 3:].any() and not graphs[0].maglap_eigval[:, 3:].any()
    assert MagLapPE(dim=5, k=6)(Batch.from_data_list(graphs)).shape == (12, 5)


def test_relative_potential_divides_by_the_number_of_one_way_edges_or_nodes():
    """A directed 8-cycle has 8 one-way edges and 8 nodes: q' = 1 means q = 1/8 (closed-form spectrum)."""
    n = 8
    cycle = Data(edge_index=torch.stack([torch.arange(n), (torch.arange(n) + 1) % n]), num_nodes=n)
    data = MagneticLaplacianEigenvectors(k=n, q=1.0, relative=True)(cycle)
    expected = np.sort([1 - math.cos(2 * math.pi / n + 2 * math.pi * j / n) for j in range(n)])
    np.testing.assert_allclose(data.maglap_eigval[0].numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("relative", [False, True])
def test_sparse_path_solves_the_same_eigenproblem(relative):
    data = _random_digraph(60, 0.06, seed=5)
    transform = MagneticLaplacianEigenvectors(k=4, q=0.3, relative=relative)
    dense = compute_node_encodings([data], [transform])
    sparse = compute_node_encodings([data], [transform], dense_limit=10)
    torch.testing.assert_close(sparse["maglap_eigval"], dense["maglap_eigval"], atol=1e-5, rtol=1e-5)
    both_ways = torch.cat([data.edge_index, data.edge_index.flip(0)], dim=1).unique(dim=1).size(1)
    one_way = both_ways - data.edge_index.size(1)  # gnp digraphs have no loops or repeated edges
    q = 0.3 / max(min(one_way, 60), 1) if relative else 0.3
    laplacian = _maglap(data.edge_index, 60, q).numpy()
    vectors = sparse["maglap_real"].double().numpy() + 1j * sparse["maglap_imag"].double().numpy()
    np.testing.assert_allclose(laplacian @ vectors, vectors * sparse["maglap_eigval"][0].double().numpy(), atol=1e-5)


def test_signnet_embedding_is_invariant_to_eigenvector_signs():
    torch.manual_seed(0)
    graphs = [MagneticLaplacianEigenvectors(k=4)(_random_digraph(n, 0.3, seed=n)) for n in (3, 9)]
    batch = Batch.from_data_list(graphs)
    encoder = MagLapPE(dim=6, k=4, embedding="signnet").eval()
    signs = (torch.randint(0, 2, (2, 4)) * 2 - 1).float()[batch.batch]
    flipped = batch.clone()
    flipped.maglap_real, flipped.maglap_imag = batch.maglap_real * signs, batch.maglap_imag * signs
    torch.testing.assert_close(encoder(flipped), encoder(batch))
