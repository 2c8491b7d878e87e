"""OGB's GCN for molecules: GCN messages that read the bond between the two atoms."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import degree, scatter

from graphformers.local.base import LocalBlock
from graphformers.registry import register_local


@register_local("ogb-gcn")
class OGBGCN(LocalBlock):
    """The GCN of OGB's molecule baselines (``examples/graphproppred/mol/conv.py``, ``GCNConv``):
    Kipf & Welling's normalised sum with the edge features inside each message and a learned
    root term in place of the self loop.

    With ``h = W x + b``, ``d_i = 1 +`` the number of edges leaving ``i``:
    ``x'_i = sum_{j -> i} ReLU(h_j + e_ji) / sqrt(d_j d_i) + ReLU(h_i + r) / d_i``, ``r`` a learned
    vector. ``forward(x [N, hidden], edge_index [2, E], edge_attr [E, hidden]) -> [N, hidden]``.
    (PyG's ``GCNConv``, model.local ``gcn``, has no edge features.) The degree counts outgoing
    edges as OGB's does; molecules store each bond both ways, so it is also the incoming count.

    Args:
        hidden (int): width of node and edge features, in and out (``model.hidden``).
    """

    def __init__(self, hidden: int) -> None:
        super().__init__(hidden)
        self.linear = nn.Linear(hidden, hidden)
        self.root = nn.Parameter(torch.empty(hidden))
        nn.init.normal_(self.root)  # as OGB's root_emb, an nn.Embedding(1, hidden)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        h = self.linear(x)
        source, target = edge_index
        degrees = degree(source, h.size(0), dtype=torch.float) + 1  # float32 also under autocast: exact counts
        inverse_root = degrees.rsqrt()
        weights = (inverse_root.index_select(0, source) * inverse_root.index_select(0, target)).unsqueeze(-1)
        messages = weights.to(h.dtype) * F.relu(h.index_select(0, source) + edge_attr)
        summed = scatter(messages, target, dim=0, dim_size=h.size(0), reduce="sum")
        return summed + F.relu(h + self.root) / degrees.unsqueeze(-1).to(h.dtype)
