"""Pair encodings: RRWP, SPD and effective resistance against direct references (numpy, networkx),
the batched precompute against graph-by-graph, their sparse storage through collation, the cache,
per-batch computation, and the refusals before a run (memory, sampled subgraphs)."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.loader.dataloader import Collater

import graphformers.data.encoded_splits as encoded_splits_module
from graphformers.data.datamodule import GraphDataModule
from graphformers.encoders import RandomWalkLandingProbabilities
from graphformers.pair_encodings import RRWP, EffectiveResistance, ShortestPathDistance
from graphformers.pair_encodings.all_pairs import PairBatchCollater, all_pairs_of, pair_values, plan_all_pairs
from graphformers.pair_encodings.precompute import compute_pair_encodings, encode_pairs, pair_memory_bytes
from graphformers.recipe import DataConfig, RecipeError
from graphformers.registry import PAIR_ENCODINGS
from graphformers.training import preflight


def _graph(edges: list[tuple[int, int]], num_nodes: int) -> Data:
    """An undirected graph (both directions stored) with ``num_nodes`` nodes, some possibly isolated."""
    pairs = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)
    return Data(edge_index=torch.cat([pairs, pairs.flip(0)], dim=1), num_nodes=num_nodes)


def _odd_graphs() -> list[Data]:
    """Isolated nodes, two components, a triangle with a tail, a single node and a path."""
    return [_graph([(0, 1), (1, 2), (3, 4)], 6), _graph([(0, 1), (1, 2), (2, 0), (2, 3)], 5), _graph([], 1),
            _graph([(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)], 7), _graph([(0, 1), (1, 2), (3, 4)], 6)]


def _networkx(graph: Data) -> nx.Graph:
    nx_graph = nx.Graph()
    nx_graph.add_nodes_from(range(graph.num_nodes))
    nx_graph.add_edges_from(graph.edge_index.t().tolist())
    return nx_graph


def _dense(graph: Data, encoding) -> np.ndarray:
    """``[n, n, channels]`` from the graph's stored pairs (:attr:`fill` where none is stored)."""
    n = graph.num_nodes
    dense = np.full((n, n, encoding.channels), encoding.fill)
    source, target = graph[encoding.index_key].numpy()
    dense[target, source] = graph[encoding.attr_key].numpy()
    return dense


def test_rrwp_equals_powers_of_the_random_walk_matrix_from_numpy():
    graphs = _odd_graphs()
    encoding = RRWP(steps=5)
    encode_pairs(graphs, [encoding])
    for graph in graphs:
        n = graph.num_nodes
        adjacency = np.zeros((n, n))
        adjacency[graph.edge_index[0].numpy(), graph.edge_index[1].numpy()] = 1
        degree = adjacency.sum(axis=1, keepdims=True)
        walk = np.divide(adjacency, degree, out=np.zeros_like(adjacency), where=degree > 0)
        expected = np.stack([np.linalg.matrix_power(walk, k) for k in range(5)], axis=-1)
        np.testing.assert_allclose(_dense(graph, encoding), expected, atol=1e-6)
        # stored: exactly the pairs within steps - 1 = 4 hops
        hops = dict(nx.all_pairs_shortest_path_length(_networkx(graph)))
        within = {(i, j) for i in range(n) for j in range(n) if hops[i].get(j, np.inf) <= 4}
        source, target = graph.rrwp_index
        assert set(zip(target.tolist(), source.tolist(), strict=True)) == within


def test_rrwp_diagonal_is_rwse():
    graphs = _odd_graphs()
    encode_pairs(graphs, [RRWP(steps=9)])
    for graph in graphs:
        rwse = RandomWalkLandingProbabilities(8)(graph.clone()).rwse
        diagonal = torch.from_numpy(_dense(graph, RRWP(9))).diagonal().t()  # [n, 9]
        torch.testing.assert_close(diagonal[:, 0], torch.ones(graph.num_nodes, dtype=diagonal.dtype))
        torch.testing.assert_close(diagonal[:, 1:].float(), rwse, atol=1e-6, rtol=0)


def test_spd_equals_networkx_capped_with_a_value_for_other_components():
    graphs = _odd_graphs()
    encoding = ShortestPathDistance(max_distance=3)
    encode_pairs(graphs, [encoding])
    for graph in graphs:
        hops = dict(nx.all_pairs_shortest_path_length(_networkx(graph)))
        n = graph.num_nodes
        expected = [[min(hops[i][j], 3) if j in hops[i] else 4 for j in range(n)] for i in range(n)]
        assert graph.spd_index.size(1) == n * n
        np.testing.assert_array_equal(_dense(graph, encoding)[..., 0], np.array(expected, dtype=float).reshape(n, n))
    assert encoding.categories == 5


def test_effective_resistance_equals_networkx_within_components():
    graphs = _odd_graphs()
    encoding = EffectiveResistance()
    encode_pairs(graphs, [encoding])
    for graph in graphs:
        nx_graph = _networkx(graph)
        values = _dense(graph, encoding)[..., 0]
        for i in range(graph.num_nodes):
            for j in range(graph.num_nodes):
                if i == j:
                    assert values[i, j] == pytest.approx(0.0, abs=1e-5)
                elif nx.has_path(nx_graph, i, j):
                    component = nx_graph.subgraph(nx.node_connected_component(nx_graph, i))
                    assert values[i, j] == pytest.approx(nx.resistance_distance(component, i, j), abs=1e-5)
                else:
                    assert values[i, j] == -1.0


def test_batched_precompute_equals_graph_by_graph_and_keeps_the_order():
    from conftest import random_graph

    graphs = [random_graph(n, seed=n) for n in (7, 12, 7, 3, 12, 7, 5)]
    encodings = [RRWP(4), ShortestPathDistance(5), EffectiveResistance()]
    together = [graph.clone() for graph in graphs]
    encode_pairs(together, encodings, workers=2)
    for graph, batched in zip(graphs, together, strict=True):
        alone = graph.clone()
        encode_pairs([alone], encodings)
        for encoding in encodings:
            torch.testing.assert_close(batched[encoding.index_key], alone[encoding.index_key], rtol=0, atol=0)
            torch.testing.assert_close(batched[encoding.attr_key], alone[encoding.attr_key])


def test_collated_pairs_land_on_their_graphs_positions_of_the_batch_plan():
    graphs = _odd_graphs()
    encodings = [RRWP(3), ShortestPathDistance(4)]
    encode_pairs(graphs, encodings)
    batch = Batch.from_data_list(graphs)
    plan = all_pairs_of(batch)
    assert plan.index.size(1) == sum(g.num_nodes ** 2 for g in graphs)
    for encoding in encodings:
        values = pair_values(batch, encoding, plan)
        start = 0
        for g, graph in enumerate(graphs):
            n, offset = graph.num_nodes, int(batch.ptr[g])
            block = values[start:start + n * n].view(n, n, -1)
            torch.testing.assert_close(block, torch.from_numpy(_dense(graph, encoding)).float())
            source, target = plan.index[:, start:start + n * n] - offset
            assert torch.equal(target, torch.arange(n).repeat_interleave(n))
            assert torch.equal(source, torch.arange(n).repeat(n))
            start += n * n
    diagonal = plan.index[:, plan.diagonal()]
    assert torch.equal(diagonal[0], torch.arange(batch.num_nodes))
    assert torch.equal(diagonal[1], torch.arange(batch.num_nodes))


def test_per_batch_collation_equals_precomputed_storage():
    graphs = _odd_graphs()
    encodings = [RRWP(4), ShortestPathDistance(3)]
    stored = [graph.clone() for graph in graphs]
    encode_pairs(stored, encodings)
    per_batch = PairBatchCollater(Collater(graphs), encodings)(graphs)
    precomputed = PairBatchCollater(Collater(stored))(stored)
    for encoding in encodings:
        for key in (encoding.index_key, encoding.attr_key):
            torch.testing.assert_close(per_batch[key], precomputed[key], rtol=0, atol=0)
    assert torch.equal(per_batch.all_pairs.index, plan_all_pairs(per_batch.batch, per_batch.num_graphs).index)
    assert "rrwp_attr" not in graphs[0]  # the dataset's graphs are left as they were


def _relay_datamodule(root, **config) -> GraphDataModule:
    options = {"num_train": 24, "num_val": 4, "num_test": 4, "seed": 0}
    return GraphDataModule(DataConfig(name="relay", root=str(root), options=options, **config))


def test_precomputed_pairs_are_cached_and_per_batch_ones_are_not_stored(tmp_path, monkeypatch):
    calls = []
    compute = encoded_splits_module.compute_pair_encodings
    monkeypatch.setattr(encoded_splits_module, "compute_pair_encodings",
                        lambda graphs, encodings,
                        **kwargs: calls.append(len(graphs)) or compute(graphs, encodings, **kwargs))
    first = _relay_datamodule(tmp_path)
    first.set_precompute([RRWP(5)])
    graphs = first.split("train")
    second = _relay_datamodule(tmp_path)
    second.set_precompute([RRWP(5)])
    again = second.split("train")
    assert calls == [24]
    for graph, cached in zip(graphs, again, strict=True):
        torch.testing.assert_close(cached.rrwp_attr, graph.rrwp_attr, rtol=0, atol=0)
        torch.testing.assert_close(cached.rrwp_index, graph.rrwp_index, rtol=0, atol=0)
    per_batch = _relay_datamodule(tmp_path, pair_storage="per_batch")
    per_batch.set_precompute([RRWP(5)])
    assert "rrwp_attr" not in per_batch.split("train")[0]
    batch = next(iter(per_batch.train_dataloader()))
    assert batch.rrwp_attr.size(1) == 5 and "all_pairs" in batch and calls == [24]


def test_pair_encodings_too_large_for_memory_are_refused_with_the_estimate(tmp_path):
    datamodule = _relay_datamodule(tmp_path)
    sizes = [g.num_nodes for split in (datamodule.splits.train, datamodule.splits.val, datamodule.splits.test)
             for g in split]
    needed = sum(n * n for n in sizes) * (16 + 4 * 7)
    assert pair_memory_bytes(sizes, [RRWP(7)]) == needed
    preflight.check_pair_memory(datamodule, [RRWP(7)], needed)
    with pytest.raises(RecipeError, match=f"{sum(n * n for n in sizes):,} node pairs.*data.pair_storage: per_batch"):
        preflight.check_pair_memory(datamodule, [RRWP(7)], needed - 1)
    preflight.check_pair_memory(_relay_datamodule(tmp_path, pair_storage="per_batch"), [RRWP(7)], 0)


def test_pair_encodings_on_sampled_subgraphs_are_refused(tmp_path):
    datamodule = GraphDataModule(DataConfig(name="relay-large", root=str(tmp_path), options={"num_nodes": 300},
                                            neighbors=[3]))
    with pytest.raises(RecipeError, match="data.neighbors trains on sampled subgraphs"):
        preflight.check_pair_memory(datamodule, [ShortestPathDistance()], 1 << 40)


def test_pair_encodings_are_a_registered_kind_with_their_options():
    assert {"rrwp", "spd", "resistance"} <= set(PAIR_ENCODINGS.names())
    assert [option.name for option in PAIR_ENCODINGS.options("rrwp")] == ["steps"]
    with pytest.raises(Exception, match="steps must be >= 1"):
        RRWP(0)
    assert compute_pair_encodings([], [RRWP(3)])["rrwp_count"].numel() == 0
