"""The batches of each batching mode, one function each: mini-batches of whole graphs, random node
partitions and sampled neighbourhoods of one large graph, and one large graph whole. Every loader
splits its batches across processes with a :class:`~graphformers.data.distributed.GlobalBatchSampler`
(each graph, target node or partition node exactly once per epoch)."""
from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader as GraphLoader
from torch_geometric.loader import NodeLoader
from torch_geometric.loader.dataloader import Collater
from torch_geometric.transforms import BaseTransform

from graphformers.data.distributed import GlobalBatchSampler
from graphformers.data.sampling import PartitionCollate, SampledGraph, UniformNeighborSampler
from graphformers.mixers.size_groups import SizeBlockCollater
from graphformers.pair_encodings.all_pairs import PairBatchCollater
from graphformers.pair_encodings.base import PairEncoding


def graph_batches(graphs: Sequence[Data], sampler: GlobalBatchSampler, pair_encodings: Sequence[PairEncoding],
                  pairs_per_batch: bool, **loader: Any) -> DataLoader:
    """Mini-batches of whole graphs, each with its mixers' block plan
    (:class:`~graphformers.mixers.size_groups.SizeBlockCollater`) and, where pair encodings are
    read, the batch's list of pairs (computed here with ``pairs_per_batch``), made where it is collated.

    Args:
        graphs (sequence of Data): the split's graphs.
        sampler (GlobalBatchSampler): this process's batches of graph indices.
        pair_encodings (sequence of PairEncoding): the model's pair encodings.
        pairs_per_batch (bool): compute them for each batch (``data.pair_storage: per_batch``).
        **loader: ``DataLoader`` settings (workers, pinned memory, generator).
    """
    collate = Collater(graphs)
    if pair_encodings:
        collate = PairBatchCollater(collate, pair_encodings if pairs_per_batch else ())
    return DataLoader(graphs, collate_fn=SizeBlockCollater(collate), batch_sampler=sampler, **loader)


def partition_batches(graph: Data, sampler: GlobalBatchSampler, structure: BaseTransform | None,
                      **loader: Any) -> DataLoader:
    """Random node partitions of one large graph (``data.node_parts``), each its induced subgraph.

    Args:
        graph (Data): the split's one graph.
        sampler (GlobalBatchSampler): this process's partitions, as batches of node ids.
        structure (BaseTransform, optional): a mixer's structure, made on each subgraph.
        **loader: ``DataLoader`` settings.
    """
    return DataLoader(range(graph.num_nodes), collate_fn=PartitionCollate(graph, SampledGraph(structure)),
                      batch_sampler=sampler, **loader)


def neighbor_batches(graph: Data, neighbors: UniformNeighborSampler, sampler: GlobalBatchSampler,
                     structure: BaseTransform | None, **loader: Any) -> NodeLoader:
    """Sampled neighbourhoods of ``data.batch_size`` target nodes of one large graph (``data.neighbors``).

    Args:
        graph (Data): the split's one graph (its ``target_mask`` marks the nodes to score).
        neighbors (UniformNeighborSampler): the graph's neighbour sampler.
        sampler (GlobalBatchSampler): this process's batches of target positions.
        structure (BaseTransform, optional): a mixer's structure, made on each subgraph.
        **loader: ``DataLoader`` settings.
    """
    targets = graph.target_mask.nonzero().view(-1) if "target_mask" in graph else torch.arange(graph.num_nodes)
    return NodeLoader(graph, neighbors, input_nodes=targets, transform=SampledGraph(structure), batch_sampler=sampler,
                      **loader)


def whole_graph(graph: Data, structure: BaseTransform | None, processes: int, rank: int) -> GraphLoader:
    """The one graph as a single batch (``data.evaluate: full_graph``). Every process computes the
    whole graph but scores only every ``processes``-th target node (its share), so metrics gathered
    across processes count each node once.

    Args:
        graph (Data): the split's one graph.
        structure (BaseTransform, optional): a mixer's structure.
        processes (int): processes evaluating.
        rank (int): this process's rank.
    """
    graph = copy.copy(graph)  # the split's graph stays as it is
    if structure is not None:
        graph = structure(graph)
    targets = graph.target_mask if "target_mask" in graph else torch.ones(graph.num_nodes, dtype=torch.bool)
    graph.target_mask = targets & (torch.arange(graph.num_nodes) % processes == rank)
    return GraphLoader([graph], batch_size=1)
