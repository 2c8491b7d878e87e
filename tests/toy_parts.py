"""A user-side dataset registered by decorator and pulled in by a recipe's ``imports:`` key."""
from __future__ import annotations

import torch
from torch_geometric.data import Data
from torch_geometric.utils import erdos_renyi_graph

from graphformers.data.base import SplitDataset
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo


@register_dataset("toy-size")
def toy_size(root: str, num_graphs: int = 300, seed: int = 0) -> SplitDataset:
    """Graph-level binary task: does the graph have more than 12 nodes? (sum pooling can count)."""
    generator = torch.Generator().manual_seed(seed)
    graphs = []
    for _ in range(num_graphs):
        n = int(torch.randint(4, 22, (1,), generator=generator))
        graphs.append(Data(x=torch.ones(n, 1), edge_index=erdos_renyi_graph(n, 0.3), y=torch.tensor([[float(n > 12)]]),
                           num_nodes=n))
    info = TaskInfo(level="graph", task="binary", num_outputs=1, metric="auroc", node_encoder="linear", node_in=1)
    cut = int(0.8 * num_graphs)
    return SplitDataset(graphs[:cut], graphs[cut:], graphs[cut:], info)
