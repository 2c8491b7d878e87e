"""Bad data is refused at load time with the split, the graph index and a fix."""
from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

from graphformers.data.validation import DataValidationError, validate_graphs
from graphformers.task import TaskInfo

FLOATS = TaskInfo(level="graph", task="regression", num_outputs=1, metric="mae", node_encoder="linear", node_in=4,
                  edge_encoder="linear", edge_in=2)
CATEGORIES = TaskInfo(level="graph", task="multilabel", num_outputs=3, metric="ap", node_encoder="embedding",
                      node_in=10)


def _graph(num_nodes: int = 5, **changes) -> Data:
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    graph = Data(x=torch.randn(num_nodes, 4), edge_index=edge_index, edge_attr=torch.randn(4, 2),
                 y=torch.tensor([[0.5]]), num_nodes=num_nodes)
    for key, value in changes.items():
        graph[key] = value
    return graph


def test_clean_graphs_pass():
    validate_graphs([_graph(), _graph(7)], FLOATS, "train")


@pytest.mark.parametrize("bad,message", [
    (float("nan"), r"val graph 2: x has non-finite features \(nan at position \(3, 1\)\); impute or drop them"),
    (float("inf"), r"val graph 2: x has non-finite features \(inf at position \(3, 1\)\)"),
])
def test_non_finite_node_features_name_the_graph_and_position(bad, message):
    x = torch.randn(5, 4)
    x[3, 1] = bad
    with pytest.raises(DataValidationError, match=message):
        validate_graphs([_graph(), _graph(), _graph(x=x)], FLOATS, "val")


def test_non_finite_edge_features_and_targets():
    edge_attr = torch.randn(4, 2)
    edge_attr[2, 0] = float("nan")
    with pytest.raises(DataValidationError, match="train graph 1: edge_attr has non-finite features"):
        validate_graphs([_graph(), _graph(edge_attr=edge_attr)], FLOATS, "train")
    with pytest.raises(DataValidationError, match=r"test graph 0: target y has non-finite values \(nan"):
        validate_graphs([_graph(y=torch.tensor([[float("nan")]]))], FLOATS, "test")


def test_nan_marks_missing_labels_only_in_multilabel_tasks():
    graph = Data(x=torch.tensor([[1], [2]]), edge_index=torch.tensor([[0], [1]]),
                 y=torch.tensor([[1.0, float("nan"), 0.0]]), num_nodes=2)
    validate_graphs([graph], CATEGORIES, "train")
    graph.y = torch.tensor([[1.0, float("inf"), 0.0]])
    with pytest.raises(DataValidationError, match="target y has non-finite values"):
        validate_graphs([graph], CATEGORIES, "train")


def test_edges_out_of_range_name_the_graph_and_the_valid_range():
    bad = torch.tensor([[0, 1], [1, 5]])
    with pytest.raises(DataValidationError, match=r"train graph 1: edge_index refers to node 5 but the graph has 5 "
                                                  r"nodes \(valid: 0..4\)"):
        validate_graphs([_graph(), _graph(edge_index=bad, edge_attr=torch.randn(2, 2))], FLOATS, "train")
    with pytest.raises(DataValidationError, match="refers to node -1"):
        validate_graphs([_graph(edge_index=torch.tensor([[-1], [0]]), edge_attr=torch.randn(1, 2))], FLOATS, "train")


def test_wrong_feature_width_names_both_numbers():
    with pytest.raises(DataValidationError, match="train graph 0: x has 7 features per row, but the 'linear' encoder "
                                                  "expects 4"):
        validate_graphs([_graph(x=torch.randn(5, 7))], FLOATS, "train")


def test_category_ids_beyond_the_embedding_name_both_numbers():
    graph = Data(x=torch.tensor([[3], [12]]), edge_index=torch.tensor([[0], [1]]), y=torch.zeros(1, 3), num_nodes=2)
    with pytest.raises(DataValidationError, match="x holds category ids up to 12, but the 'embedding' encoder has 10 "
                                                  "categories"):
        validate_graphs([graph], CATEGORIES, "train")
