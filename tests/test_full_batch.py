"""Full-batch training on one graph: each split collated once, sharing the graph's tensors; the sparse
adjacency that GCN and SAGE aggregate over gives what their per-edge messages give (outputs and
gradients, whole models too); a one-graph dataset's encodings are computed once for all splits."""
from __future__ import annotations

import copy

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import erdos_renyi_graph, to_dense_adj

import graphformers.data.encoded_splits as encoded_splits_module
from graphformers.data.base import SplitDataset
from graphformers.data.datamodule import GraphDataModule
from graphformers.data.full_batch import FullBatches, transposed_adjacency
from graphformers.encoders import RandomWalkLandingProbabilities
from graphformers.local.pyg_convs import GCN, SAGE
from graphformers.models.gps import GPSModel
from graphformers.models.mpnn import MPNNModel
from graphformers.recipe import DataConfig, ModelConfig, PartSpec
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo

INFO = TaskInfo(level="node", task="multiclass", num_outputs=3, metric="accuracy", node_encoder="linear", node_in=4)


def _graph(num_nodes: int = 40, seed: int = 0) -> Data:
    torch.manual_seed(seed)
    return Data(x=torch.randn(num_nodes, 4), edge_index=erdos_renyi_graph(num_nodes, 0.1),
                y=torch.randint(0, 3, (num_nodes,)), num_nodes=num_nodes)


@register_dataset("test-full-batch-graph")
def full_batch_graph(root: str, num_nodes: int = 40) -> SplitDataset:
    """One random graph shared by the three splits, which differ only in ``target_mask``."""
    part = torch.arange(num_nodes) % 3
    return SplitDataset.of_one_graph(_graph(num_nodes), tuple(part == k for k in range(3)), INFO)


def test_each_split_is_collated_once_and_the_splits_share_the_graph():
    datamodule = GraphDataModule(DataConfig(name="test-full-batch-graph"))
    loader = datamodule.train_dataloader()
    first, again = next(iter(loader)), next(iter(loader))
    assert again is first and next(iter(datamodule.train_dataloader())) is first
    assert len(list(loader)) == 1 and first.num_graphs == 1 and bool((first.batch == 0).all())
    val = next(iter(datamodule.val_dataloader()))
    assert val.x is first.x and val.edge_index is first.edge_index and val.adj_t is first.adj_t
    graph = datamodule.splits.val[0]
    assert torch.equal(val.target_mask, graph.target_mask) and not torch.equal(val.target_mask, first.target_mask)
    torch.testing.assert_close(first.adj_t.to_dense(), to_dense_adj(graph.edge_index, max_num_nodes=40)[0].T)


def test_a_split_keeps_the_tensors_it_does_not_share():
    graph = _graph()
    other = Data(x=torch.randn(40, 4), edge_index=graph.edge_index, y=graph.y, num_nodes=40)
    batches = FullBatches()
    base, batch = batches.batch(graph), batches.batch(other)
    assert batches.batch(graph) is base and batches.holds(batch) and not batches.holds(copy.copy(batch))
    assert batch.edge_index is base.edge_index and batch.y is base.y and batch.adj_t is base.adj_t
    assert torch.equal(batch.x, other.x) and not torch.equal(batch.x, base.x)


@pytest.mark.parametrize("extra_edges", [torch.tensor([[0], [1]]), torch.tensor([[2], [2]])],
                         ids=["repeated-edge", "self-loop"])
def test_no_adjacency_where_it_would_differ_from_the_edges(extra_edges):
    graph = _graph()
    graph.edge_index = torch.cat([graph.edge_index, graph.edge_index[:, :1], extra_edges], dim=1)
    assert "adj_t" not in FullBatches().batch(graph)


def test_splits_are_placed_once_and_keep_sharing_in_the_models_dtype():
    datamodule = GraphDataModule(DataConfig(name="test-full-batch-graph"))
    train, val = next(iter(datamodule.train_dataloader())), next(iter(datamodule.val_dataloader()))
    placed = [datamodule._full_batches.placed(batch, torch.device("cpu"), torch.float64) for batch in (train, val)]
    assert datamodule._full_batches.placed(train, torch.device("cpu"), torch.float64) is placed[0]
    assert placed[0].x is placed[1].x and placed[0].adj_t is placed[1].adj_t
    assert placed[0].x.dtype == torch.float64 and placed[0].adj_t.values().dtype == torch.float64
    assert placed[0].edge_index is train.edge_index and train.x.dtype == torch.float32  # the host batch is unchanged
    assert torch.equal(placed[1].target_mask, val.target_mask)


def test_gcn_trains_after_evaluating_on_the_same_adjacency_in_inference_mode():
    block = GCN(8)
    graph = _graph()
    adjacency = transposed_adjacency(graph.edge_index, 40)
    x = torch.randn(40, 8)
    with torch.inference_mode():
        evaluated = block(x, adjacency, None)
    trained = block(x, adjacency, None)
    trained.sum().backward()
    torch.testing.assert_close(trained.detach(), evaluated)
    assert block.conv.lin.weight.grad is not None


@pytest.mark.parametrize("block_type", [GCN, SAGE])
def test_blocks_on_the_sparse_adjacency_equal_their_per_edge_form(block_type):
    torch.manual_seed(0)
    block = block_type(8)
    graph = _graph()
    results = []
    for edges in (graph.edge_index, transposed_adjacency(graph.edge_index, 40)):
        x = torch.randn(40, 8, generator=torch.Generator().manual_seed(1), requires_grad=True)
        out = block(x, edges, None)
        out.square().sum().backward()
        results.append((out.detach(), x.grad, [p.grad.clone() for p in block.parameters()]))
        block.zero_grad()
    (out, x_grad, grads), (sparse_out, sparse_x_grad, sparse_grads) = results
    torch.testing.assert_close(sparse_out, out)
    torch.testing.assert_close(sparse_x_grad, x_grad)
    for sparse_grad, grad in zip(sparse_grads, grads, strict=True):
        torch.testing.assert_close(sparse_grad, grad)


def test_gcn_normalises_a_new_adjacency_again():
    torch.manual_seed(0)
    block = GCN(8).eval()
    x = torch.randn(40, 8)
    for seed in (0, 1, 1):
        graph = _graph(seed=seed)
        sparse = block(x, transposed_adjacency(graph.edge_index, 40), None)
        torch.testing.assert_close(sparse, block(x, graph.edge_index, None))


@pytest.mark.parametrize("model_type,local,mixer", [(GPSModel, "gcn", "full"), (MPNNModel, "sage", None)],
                         ids=["gps-gcn-full", "mpnn-sage"])
def test_models_give_the_same_predictions_with_the_adjacency(model_type, local, mixer):
    torch.manual_seed(0)
    config = ModelConfig(name="gps" if model_type is GPSModel else "mpnn", hidden=8, layers=2,
                         local=PartSpec(local), mixer=PartSpec(mixer) if mixer else None, norm="layer")
    model = model_type(config, INFO).eval()
    graph = _graph()
    per_edge = model(Batch.from_data_list([graph]))
    torch.testing.assert_close(model(FullBatches().batch(graph)), per_edge)


def test_the_splits_of_one_graph_are_encoded_once(monkeypatch):
    calls = []
    compute = encoded_splits_module.compute_node_encodings

    def counting(graphs, encodings, **kwargs):
        calls.append(len(graphs))
        return compute(graphs, encodings, **kwargs)

    monkeypatch.setattr(encoded_splits_module, "compute_node_encodings", counting)
    datamodule = GraphDataModule(DataConfig(name="test-full-batch-graph", cache=False))
    datamodule.set_precompute([RandomWalkLandingProbabilities(5)])
    train, val, test = (datamodule.split(name)[0] for name in ("train", "val", "test"))
    assert calls == [1]
    expected = compute([datamodule.splits.train[0]], [RandomWalkLandingProbabilities(5)])["rwse"]
    for graph in (train, val, test):
        torch.testing.assert_close(graph.rwse, expected, rtol=0, atol=0)
