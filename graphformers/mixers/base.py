"""The global-mixer interface.

A mixer is constructed as ``Mixer(hidden, heads, dropout, **options)`` and called as
``forward(x [N, hidden], batch [N], data) -> [N, hidden]``: ``x`` holds the nodes of
every graph in the mini-batch, ``batch`` maps each node to its graph (sorted, as PyG
batches are) and ``data`` is the PyG ``Batch`` for mixers that need more structure
(edges, or structure its :meth:`GlobalMixer.precompute` transform stored once per
graph before training, such as Exphormer's expander edges). A mixer must never let information flow
between graphs of one batch. The GPS layer adds the residual, dropout and norm.
"""
from __future__ import annotations

from typing import Optional

from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform

from graphformers.errors import GraphformersError


class GlobalMixer(nn.Module):
    """Base class of global mixers (see module docstring for the contract)."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"{type(self).__name__}: hidden ({hidden}) must be divisible by heads ({heads}).")
        self.hidden, self.heads, self.dropout = hidden, heads, dropout

    def precompute(self) -> Optional[BaseTransform]:
        """A transform storing per-graph structure this mixer reads from ``data`` (None: needs none)."""
        return None

    def check_graph_size(self, num_nodes: int) -> None:
        """Raise :class:`GraphTooLargeError` if a graph of ``num_nodes`` nodes is beyond this mixer
        (called before training on the largest graph, so a run fails before allocating)."""


class GraphTooLargeError(GraphformersError, ValueError):
    """A graph too large for the chosen mixer; the message gives the estimate and the alternatives."""

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        raise NotImplementedError
