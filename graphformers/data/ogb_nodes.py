"""OGB node-property prediction on one large graph, via ``ogb``'s ``PygNodePropPredDataset``:
``ogbn-arxiv`` (169,343 papers, 40 subject areas, time split) and ``ogbn-products`` (2,449,029
products, 47 categories, sales-ranking split); accuracy by ``ogb``'s Evaluator.

Graphs are used undirected (arxiv's citations are made so, as GraphGPS, Polynormer and most
baselines use them; OGB stores products with both directions already). Each split is the whole
graph with a ``target_mask [N]`` marking the nodes that split scores, so training sees all nodes'
features and structure but only train labels. ogbn-products does not fit one step on most
machines: its recipe trains on random node partitions (``data.node_parts``).

Layout under the data root (OGB's): ``ogbn_<name>/raw/*.csv.gz``,
``ogbn_<name>/split/<split>/{train,valid,test}.csv.gz``, ``ogbn_<name>/RELEASE_v1.txt``.
"""
from __future__ import annotations

from pathlib import Path

import torch
from ogb.nodeproppred import PygNodePropPredDataset
from torch_geometric.utils import is_undirected, to_undirected

from graphformers.data.base import RawFile, SplitDataset
from graphformers.data.raw_files import ensure_via_library
from graphformers.io import pyg_safe_globals
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo

BASE_TABLES = ("edge", "node-feat", "node-label", "num-node-list", "num-edge-list")
DATASETS = {
    # name: (task, split folder, extra raw tables)
    "ogbn-arxiv": (TaskInfo(level="node", task="multiclass", num_outputs=40, metric="acc",
                            node_encoder="linear", node_in=128, evaluator="ogbn-arxiv"), "time", ("node_year",)),
    "ogbn-products": (TaskInfo(level="node", task="multiclass", num_outputs=47, metric="acc",
                               node_encoder="linear", node_in=100, evaluator="ogbn-products"), "sales_ranking", ()),
}


def raw_files(name: str) -> tuple[RawFile, ...]:
    """The CSV tables, split and release file of OGB node dataset ``name``, from its zip."""
    _, split, extra = DATASETS[name]
    directory = name.replace("-", "_")
    zip_url = f"http://snap.stanford.edu/ogb/data/nodeproppred/{name.split('-')[1]}.zip"
    return tuple([RawFile(f"{directory}/raw/{table}.csv.gz", source=f"{zip_url} (inside: raw/{table}.csv.gz)")
                  for table in BASE_TABLES + extra]
                 + [RawFile(f"{directory}/split/{split}/{part}.csv.gz", source=f"{zip_url} (inside: split/{split}/)")
                    for part in ("train", "valid", "test")]
                 + [RawFile(f"{directory}/RELEASE_v1.txt", source=f"{zip_url} (inside)")])


def load_ogb_nodes(name: str, root: str, download: bool) -> SplitDataset:
    """``name``'s graph, undirected, once per split with that split's ``target_mask``; downloads
    through ``ogb`` only into an absent folder (``ogb`` asks on stdin about an incomplete one)."""
    info, _, _ = DATASETS[name]
    directory = Path(root) / name.replace("-", "_")
    with pyg_safe_globals():
        ensure_via_library(name, Path(root), directory, lambda: PygNodePropPredDataset(name, root), download)
        dataset = PygNodePropPredDataset(name, root)
        split = dataset.get_idx_split()
    graph = dataset[0]
    if not is_undirected(graph.edge_index, num_nodes=graph.num_nodes):
        graph.edge_index = to_undirected(graph.edge_index, num_nodes=graph.num_nodes)

    def mask(part: str) -> torch.Tensor:
        marked = torch.zeros(graph.num_nodes, dtype=torch.bool)
        marked[split[part]] = True
        return marked

    return SplitDataset.of_one_graph(graph, (mask("train"), mask("valid"), mask("test")), info, directory=directory)


@register_dataset("ogbn-arxiv", DATASETS["ogbn-arxiv"][0], raw_files("ogbn-arxiv"))
def ogbn_arxiv(root: str, download: bool = True) -> SplitDataset:
    """OGB ogbn-arxiv: 169,343 papers, 40 classes (node classification, accuracy, time split).

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files. (default: :obj:`True`)
    """
    return load_ogb_nodes("ogbn-arxiv", root, download)


@register_dataset("ogbn-products", DATASETS["ogbn-products"][0], raw_files("ogbn-products"))
def ogbn_products(root: str, download: bool = True) -> SplitDataset:
    """OGB ogbn-products: 2,449,029 products, 47 classes (node classification, accuracy, sales-ranking split).

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files. (default: :obj:`True`)
    """
    return load_ogb_nodes("ogbn-products", root, download)
