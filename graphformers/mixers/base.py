"""The global-mixer interface.

A mixer is constructed as ``Mixer(hidden, heads, dropout, **options)`` and called as
``forward(x [N, hidden], batch [N], data) -> [N, hidden]``: ``x`` holds the nodes of
every graph in the mini-batch, ``batch`` maps each node to its graph (sorted, as PyG
batches are) and ``data`` is the PyG ``Batch`` for mixers that need more structure
(edges, precomputed expander graphs, ...). A mixer must never let information flow
between graphs of one batch. The GPS layer adds the residual, dropout and norm.
"""
from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.data import Batch


class GlobalMixer(nn.Module):
    """Base class of global mixers (see module docstring for the contract)."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"{type(self).__name__}: hidden ({hidden}) must be divisible by heads ({heads}).")
        self.hidden, self.heads, self.dropout = hidden, heads, dropout

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        raise NotImplementedError
