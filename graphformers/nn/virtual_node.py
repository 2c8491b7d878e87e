"""A virtual node per graph (Gilmer et al. 2017), as OGB's GIN-VN and GCN-VN build it
(``examples/graphproppred/mol/conv.py``, ``GNN_node_Virtualnode``)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import scatter

from graphformers.nn.norms import make_norm


class VirtualNode(nn.Module):
    """One learned node per graph, joined to every node of its graph.

    Its state starts as a learned vector (initialised to zero). Before layer ``l`` every node adds
    its graph's state (:meth:`join`); after every layer but the last, the state becomes
    ``dropout(MLP_l(sum of the graph's joined node states + state))`` (:meth:`update`), the MLP
    ``Linear(h, 2h), BatchNorm, ReLU, Linear(2h, h), BatchNorm, ReLU``. Graphs never share a state.
    (The batch norms use their running statistics for a batch of one graph, where OGB's fail.)

    Args:
        hidden (int): width of node states.
        layers (int): the model's layers (``layers - 1`` updates).
        dropout (float): dropout on each updated state (the model's ``dropout``).

    Shapes: node states ``[N, hidden]``, ``batch [N]``; states ``[num_graphs, hidden]``.
    """

    def __init__(self, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.start = nn.Parameter(torch.zeros(hidden))
        self.updates = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden, 2 * hidden), make_norm("batch", 2 * hidden), nn.ReLU(),
                          nn.Linear(2 * hidden, hidden), make_norm("batch", hidden), nn.ReLU())
            for _ in range(layers - 1))
        self.dropout = dropout

    def initial(self, num_graphs: int) -> Tensor:
        """The first state of each of ``num_graphs`` graphs: ``[num_graphs, hidden]``."""
        return self.start.expand(num_graphs, -1)

    def join(self, x: Tensor, state: Tensor, batch: Tensor) -> Tensor:
        """Every node's state plus its graph's virtual-node state."""
        return x + state.index_select(0, batch)

    def update(self, layer: int, joined: Tensor, state: Tensor, batch: Tensor) -> Tensor:
        """The state after layer ``layer``, from the node states that layer read (:meth:`join`'s)."""
        pooled = scatter(joined, batch, dim=0, dim_size=state.size(0), reduce="sum") + state
        return F.dropout(self.updates[layer](pooled), self.dropout, self.training)
