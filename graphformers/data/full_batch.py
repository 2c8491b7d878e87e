"""Full-batch training on one large graph: the graph is collated, moved and cast once, not every epoch.

Node-level datasets of one graph (Planetoid, the heterophilous graphs) train on the whole graph at
every step; their splits share the graph and differ only in ``target_mask``. So each split's batch
is built once, keeps the tensors it shares with an earlier split's (one copy of the structure in
memory, on the host and on the device), and carries the transposed sparse adjacency ``adj_t`` that
local blocks which :attr:`~graphformers.local.base.LocalBlock.accepts_adjacency` aggregate over by
sparse product.
"""
from __future__ import annotations

import copy

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.utils import coalesce, contains_self_loops, to_torch_csr_tensor


def transposed_adjacency(edge_index: Tensor, num_nodes: int) -> Tensor:
    """PyG's ``adj_t [N, N]`` as a torch CSR tensor: row ``i`` holds the sources of ``i``'s incoming edges.

    Args:
        edge_index (Tensor): ``[2, E]`` edges ``source -> target``.
        num_nodes (int): ``N``.
    """
    return to_torch_csr_tensor(edge_index.flip(0), size=(num_nodes, num_nodes))


def adjacency_is_exact(edge_index: Tensor, num_nodes: int) -> bool:
    """Whether aggregating over ``adj_t`` equals per-edge messages along ``edge_index``: no repeated
    edges (the sparse matrix would merge them) and no self loops (GCN's normalisation would add a
    second one on the sparse path)."""
    return not contains_self_loops(edge_index) and coalesce(edge_index,
                                                            num_nodes=num_nodes).size(1) == edge_index.size(1)


class FullBatches:
    """The one-graph batches of a data module's splits, built once, and their copies on a device.

    :meth:`batch` collates a split's graph (memoised) and attaches ``adj_t`` when it is exact
    (:func:`adjacency_is_exact`); :meth:`placed` gives the batch on a device in a dtype, moving
    every tensor the splits share once, so the splits' device batches share them too (Lightning
    would move each split's batch separately, in place).
    """

    def __init__(self) -> None:
        self._batches: dict[int, tuple[Data, Batch]] = {}  # id(graph) -> (graph, its batch); the graph kept alive
        self._placed: dict[tuple, Batch] = {}
        self._tensors: dict[tuple, tuple[Tensor, Tensor]] = {}  # (id, device, dtype) -> (source, placed)

    def clear(self) -> None:
        """Forget every batch (the splits' graphs changed)."""
        self._batches.clear()
        self._placed.clear()
        self._tensors.clear()

    def batch(self, graph: Data) -> Batch:
        """``graph`` as a batch of one, with ``adj_t`` when exact; tensors shared with an earlier
        split's graph are taken from that split's batch.

        Args:
            graph (Data): the split's one graph (``edge_index [2, E]``, ``target_mask [N]``, ...).
        """
        if id(graph) in self._batches:
            return self._batches[id(graph)][1]
        batch = Batch.from_data_list([graph])
        earlier = next(iter(self._batches.values()), None)
        if earlier is not None:
            source, base = earlier
            for key, value in graph.items():
                if isinstance(value, Tensor) and key in source and source[key] is value:
                    batch[key] = base[key]
        if earlier is not None and earlier[0].edge_index is graph.edge_index:
            if "adj_t" in earlier[1]:
                batch.adj_t = earlier[1].adj_t
        elif adjacency_is_exact(batch.edge_index, batch.num_nodes):
            batch.adj_t = transposed_adjacency(batch.edge_index, batch.num_nodes)
        self._batches[id(graph)] = (graph, batch)
        return batch

    def holds(self, batch: object) -> bool:
        """Whether ``batch`` is one of the batches built here."""
        return any(built is batch for _, built in self._batches.values())

    def placed(self, batch: Batch, device: torch.device, dtype: torch.dtype | None) -> Batch:
        """``batch`` on ``device``, floating-point tensors in ``dtype`` (memoised; shared tensors placed once).

        Args:
            batch (Batch): a batch from :meth:`batch`.
            device (torch.device): where the model is.
            dtype (torch.dtype, optional): the model's floating-point dtype (None: keep).
        """
        key = (id(batch), str(device), dtype)
        if key not in self._placed:
            moved = copy.copy(batch)
            for name, value in batch.items():
                if isinstance(value, Tensor):
                    moved[name] = self._tensor(value, device, dtype)
            self._placed[key] = moved
        return self._placed[key]

    def _tensor(self, value: Tensor, device: torch.device, dtype: torch.dtype | None) -> Tensor:
        cast = dtype if dtype is not None and value.is_floating_point() else value.dtype
        key = (id(value), str(device), cast)
        if key not in self._tensors:
            self._tensors[key] = (value, value.to(device=device, dtype=cast))
        return self._tensors[key][1]


def _the_batch(batch: Batch) -> Batch:
    return batch


def one_batch_loader(batch: Batch) -> torch.utils.data.DataLoader:
    """A loader whose every epoch is the one prebuilt ``batch`` (no collation, no worker processes)."""
    return torch.utils.data.DataLoader([batch], batch_size=None, collate_fn=_the_batch)
