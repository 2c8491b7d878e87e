"""The node-ordering contract: the order in which a sequence mixer reads each graph's nodes."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform


class NodeOrdering:
    """Base class of node orderings.

    An ordering is constructed as ``Ordering(**options)`` (the recipe's
    ``model.ordering: {name: ..., option: ...}``) and gives each node a sort key,
    :meth:`keys`: ``keys(data) -> [N]``, computed from each graph's own structure only, so that
    relabelling a graph's nodes permutes its keys the same way. A mixer that scans nodes
    (``mamba``, ``cat``) reads each graph's nodes by ascending key; equal keys are broken by
    per-node tie-breaks it draws (uniform in ``[0, 1)``, redrawn at every training step, seeded
    at evaluation), so the order is a uniformly random one among those the keys allow.
    :func:`order_within_graphs` turns keys and tie-breaks into the permutation. Orderings never
    mix graphs: a graph's nodes keep their graph's positions in the batch.

    An ordering that needs per-graph structure computed once before training (``fiedler``: a
    Laplacian eigenvector) returns the transform that stores it from :meth:`precompute`, as
    positional encoders do.

    Attributes:
        equivariant (bool): whether the keys are a function of the graph's structure alone (a
            relabelled graph gets the relabelled keys); the docs list which orderings are.
    """

    equivariant: bool = True

    def precompute(self) -> BaseTransform | None:
        """A transform storing per-graph structure :meth:`keys` reads (None: it needs none)."""
        return None

    def keys(self, data: Batch) -> Tensor:
        """``[N]`` float sort keys of every node of ``data`` (ascending: read first)."""
        raise NotImplementedError


def order_within_graphs(keys: Tensor, tie_breaks: Tensor, batch: Tensor) -> Tensor:
    """The permutation that reads each graph's nodes by ascending ``keys``, equal keys by ascending
    ``tie_breaks``, graph after graph in the batch's order: ``x[order]`` is the scanned sequence,
    and graph ``g``'s nodes stay at its positions ``ptr[g] .. ptr[g + 1] - 1``.

    Three stable sorts (tie-break, key, graph), so it costs O(N log N) and never compares nodes
    of different graphs by key.

    Args:
        keys (Tensor): each node's sort key.
        tie_breaks (Tensor): each node's tie-break.
        batch (Tensor): each node's graph, sorted (as PyG batches are).

    Shapes: ``keys``, ``tie_breaks``, ``batch`` ``[N]`` -> ``[N]``.
    """
    order = torch.argsort(tie_breaks)
    order = order[torch.sort(keys[order], stable=True).indices]
    return order[torch.sort(batch[order], stable=True).indices]
