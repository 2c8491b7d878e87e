"""Every mixer, local block and positional encoder trains (finite outputs and gradients) on degenerate
graphs: no edges, one node, isolated nodes, self-loops, multi-edges, disconnected parts, fewer nodes
than the encoders' k, a batch mixing a 1-node and a 10^4-node graph, and one-way (directed) edges,
which the undirected encoders (lap, rwse) symmetrise as documented."""
from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphformers.encoders import LaplacianEigenvectors
from graphformers.models.gps import GPSModel
from graphformers.recipe import ModelConfig, PartSpec
from graphformers.task import TaskInfo

INFO = TaskInfo(level="graph", task="regression", num_outputs=1, metric="mae", node_encoder="linear", node_in=4,
                edge_encoder="linear", edge_in=2)


def _graph(num_nodes: int, edges: list[tuple[int, int]]) -> Data:
    edge_index = torch.tensor(edges, dtype=torch.long).view(-1, 2).T
    return Data(x=torch.randn(num_nodes, 4), edge_index=edge_index, edge_attr=torch.randn(edge_index.size(1), 2),
                y=torch.randn(1, 1), num_nodes=num_nodes)


def _undirected(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return pairs + [(j, i) for i, j in pairs]


def _large(num_nodes: int) -> Data:
    generator = torch.Generator().manual_seed(0)
    pairs = torch.randint(0, num_nodes, (3 * num_nodes, 2), generator=generator).tolist()
    return _graph(num_nodes, _undirected([(i, j) for i, j in pairs if i != j]))


CASES = {
    "no edges": lambda: [_graph(5, [])],
    "single node": lambda: [_graph(1, [])],
    "isolated nodes": lambda: [_graph(7, _undirected([(0, 1), (1, 2), (2, 3)]))],
    "self-loops": lambda: [_graph(3, _undirected([(0, 1), (1, 2), (2, 0)]) + [(0, 0), (1, 1)])],
    "multi-edges": lambda: [_graph(3, _undirected([(0, 1), (0, 1), (0, 1), (1, 2)]))],
    "disconnected": lambda: [_graph(6, _undirected([(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)]))],
    "smaller than k": lambda: [_graph(3, _undirected([(0, 1), (1, 2)]))],
    "1 and 10^4 nodes": lambda: [_graph(1, []), _large(10_000)],
    "one-way edges": lambda: [_graph(6, [(i, (i + 1) % 6) for i in range(6)] + [(0, 3)])],
}
PARTS = ([("gine", mixer, None) for mixer in ("full", "performer", "exphormer", "polynormer")]
         + [(local, "full", None) for local in ("gatedgcn", "gcn", "gat", "polynormer")]
         + [("gine", "full", encoder) for encoder in ({"name": "lap", "k": 8, "dim": 4},
                                                      {"name": "rwse", "steps": 4, "dim": 4},
                                                      {"name": "maglap", "k": 8, "dim": 4})])


def _part_id(part) -> str:
    local, mixer, encoder = part
    return f"{local}+{mixer}" + (f"+{encoder['name']}" if encoder else "")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("part", PARTS, ids=_part_id)
def test_parts_train_on_degenerate_graphs(case, part):
    local, mixer, encoder = part
    torch.manual_seed(0)
    config = ModelConfig(hidden=16, layers=1, heads=2, local=PartSpec(local), mixer=PartSpec(mixer),
                         encoders=[PartSpec(encoder["name"], {k: v for k, v in encoder.items() if k != "name"})]
                         if encoder else [])
    model = GPSModel(config, INFO)
    graphs = CASES[case]()
    for transform in model.precompute_transforms():
        graphs = [transform(graph) for graph in graphs]
    output = model(Batch.from_data_list(graphs))
    assert output.shape == (len(graphs), 1) and torch.isfinite(output).all()
    output.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_undirected_encoders_symmetrise_one_way_edges():
    directed = CASES["one-way edges"]()[0]
    symmetric = directed.clone()
    symmetric.edge_index = torch.cat([directed.edge_index, directed.edge_index.flip(0)], dim=1)
    encode = LaplacianEigenvectors(k=3)
    torch.testing.assert_close(encode(directed.clone()).lap_eigval, encode(symmetric).lap_eigval)
