"""Full-batch training on one large graph: the graph is collated once, not once per epoch.

Node-level datasets of one graph (Planetoid, the heterophilous graphs) train on the whole graph at
every step; their splits share the graph and differ only in ``target_mask``. So each split's batch
is built once, keeps the tensors it shares with an earlier split's (one copy of the structure in
memory), and carries the transposed sparse adjacency ``adj_t`` that local blocks which
:attr:`~graphformers.local.base.LocalBlock.accepts_adjacency` aggregate over by sparse product.
"""
from __future__ import annotations

import warnings
from typing import Optional

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.utils import to_torch_csr_tensor


def transposed_adjacency(edge_index: Tensor, num_nodes: int) -> Tensor:
    """PyG's ``adj_t [N, N]`` as a torch CSR tensor: row ``i`` holds the sources of ``i``'s incoming edges.

    Args:
        edge_index (Tensor): ``[2, E]`` edges ``source -> target``.
        num_nodes (int): ``N``.
    """
    with warnings.catch_warnings():  # torch's "sparse CSR support is in beta" notice, once per graph
        warnings.simplefilter("ignore", UserWarning)
        return to_torch_csr_tensor(edge_index.flip(0), size=(num_nodes, num_nodes))


def one_graph_batch(graph: Data, shared: Optional[tuple[Data, Batch]] = None) -> Batch:
    """``graph`` as a batch of one, with ``adj_t``; tensors ``graph`` shares with ``shared``'s graph
    are taken from ``shared``'s batch instead of kept as second copies.

    Args:
        graph (Data): the split's one graph (``edge_index [2, E]``, ``target_mask [N]``, ...).
        shared (tuple[Data, Batch], optional): an earlier split's graph and the batch built from it.
    """
    batch = Batch.from_data_list([graph])
    source, base = shared if shared is not None else (None, None)
    for key, value in graph.items():
        if source is not None and isinstance(value, Tensor) and key in source and source[key] is value:
            batch[key] = base[key]
    if base is not None and source.edge_index is graph.edge_index:
        batch.adj_t = base.adj_t
    else:
        batch.adj_t = transposed_adjacency(batch.edge_index, batch.num_nodes)
    return batch


def _the_batch(batch: Batch) -> Batch:
    return batch


def one_batch_loader(batch: Batch) -> torch.utils.data.DataLoader:
    """A loader whose every epoch is the one prebuilt ``batch`` (no collation, no worker processes)."""
    return torch.utils.data.DataLoader([batch], batch_size=None, collate_fn=_the_batch)
