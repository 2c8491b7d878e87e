"""A dataset whose graphs kill the DataLoader worker process that loads them (never the main process)."""
from __future__ import annotations

import os
import signal
from collections.abc import Sequence

import torch
from torch.utils.data import get_worker_info
from torch_geometric.data import Data
from torch_geometric.utils import erdos_renyi_graph

from graphformers.data.base import SplitDataset
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo


class KillsItsWorker(Sequence):
    """Graphs that SIGKILL the worker process reading them."""

    def __init__(self, graphs: list[Data]) -> None:
        self.graphs = graphs

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, index):
        if get_worker_info() is not None:
            os.kill(os.getpid(), signal.SIGKILL)
        return self.graphs[index]


@register_dataset("dying-worker")
def dying_worker(root: str) -> SplitDataset:
    """Eight small graphs per split; loading any of them in a worker process kills that worker."""
    torch.manual_seed(0)
    graphs = [Data(x=torch.randn(6, 2), edge_index=erdos_renyi_graph(6, 0.5), y=torch.randn(1, 1), num_nodes=6)
              for _ in range(8)]
    info = TaskInfo(level="graph", task="regression", num_outputs=1, metric="mae", node_encoder="linear", node_in=2)
    return SplitDataset(KillsItsWorker(graphs), graphs, graphs, info)
