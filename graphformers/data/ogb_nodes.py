"""OGB node-property prediction on one large graph: ``ogbn-arxiv`` (40 subject areas, accuracy by
``ogb``'s Evaluator, official time split), via ``ogb``'s ``PygNodePropPredDataset``.

The citation graph is made undirected (as GraphGPS, Polynormer and most baselines use it).
Each split is the whole graph with a ``target_mask [N]`` marking the nodes that split scores,
so training sees all nodes' features and structure but only train labels.

Layout under the data root (OGB's): ``ogbn_arxiv/raw/*.csv.gz``,
``ogbn_arxiv/split/time/{train,valid,test}.csv.gz``, ``ogbn_arxiv/RELEASE_v1.txt``.
"""
from __future__ import annotations

from pathlib import Path

import torch
from ogb.nodeproppred import PygNodePropPredDataset
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from graphformers.data.ogb_graphs import PYG_SAFE_GLOBALS
from graphformers.data.raw_files import RawFile, declare, ensure_via_library
from graphformers.data.task import SplitDataset, TaskInfo
from graphformers.registry import register_dataset

ARXIV_ZIP = "http://snap.stanford.edu/ogb/data/nodeproppred/arxiv.zip"
declare("ogbn-arxiv",
        [RawFile(f"ogbn_arxiv/raw/{table}.csv.gz", source=f"{ARXIV_ZIP} (inside: raw/{table}.csv.gz)")
         for table in ("edge", "node-feat", "node-label", "num-node-list", "num-edge-list", "node_year")]
        + [RawFile(f"ogbn_arxiv/split/time/{part}.csv.gz", source=f"{ARXIV_ZIP} (inside: split/time/)")
           for part in ("train", "valid", "test")]
        + [RawFile("ogbn_arxiv/RELEASE_v1.txt", source=f"{ARXIV_ZIP} (inside)")])
ARXIV = TaskInfo(level="node", task="multiclass", num_outputs=40, metric="acc", node_encoder="linear", node_in=128,
                 evaluator="ogbn-arxiv")


@register_dataset("ogbn-arxiv")
def ogbn_arxiv(root: str = "datasets", download: bool = True) -> SplitDataset:
    """OGB ogbn-arxiv: 169,343 papers, 40 classes (node classification, accuracy, time split)."""
    directory = Path(root) / "ogbn_arxiv"
    with torch.serialization.safe_globals(PYG_SAFE_GLOBALS):
        ensure_via_library("ogbn-arxiv", Path(root), directory, lambda: PygNodePropPredDataset("ogbn-arxiv", root),
                           download)
        dataset = PygNodePropPredDataset("ogbn-arxiv", root)
        split = dataset.get_idx_split()
    graph = dataset[0]
    edge_index = to_undirected(graph.edge_index, num_nodes=graph.num_nodes)

    def masked(part: str) -> Data:
        mask = torch.zeros(graph.num_nodes, dtype=torch.bool)
        mask[split[part]] = True
        return Data(x=graph.x, edge_index=edge_index, y=graph.y, target_mask=mask, num_nodes=graph.num_nodes)

    return SplitDataset([masked("train")], [masked("valid")], [masked("test")], ARXIV, directory=directory)
