"""Graphs given without code -> a :class:`~graphformers.data.base.SplitDataset`: targets shaped,
task inferred, features given where there are none, the split rule applied."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphformers.data.base import SplitDataset
from graphformers.data.custom.inference import shape_targets, task_info
from graphformers.data.custom.splits import column_split, random_split
from graphformers.data.scaffold_split import murcko_scaffold, scaffold_split
from graphformers.errors import PartOptionError

log = logging.getLogger(__name__)
Indices = tuple[Tensor, Tensor, Tensor]


def with_node_features(graph: Data) -> Data:
    """``graph`` itself, given ``x = ones [N, 1]`` if it has no node features (TUDatasets such as IMDB-BINARY)."""
    if graph.x is None:
        graph.x = torch.ones(graph.num_nodes, 1)
    return graph


def split_rows(rule: str, count: int, fractions: Sequence[float], seed: int, smiles: Sequence[str] | None = None,
               labels: Sequence[object] | None = None, column: str = "split",
               scaffold: Callable[[str], str] = murcko_scaffold) -> Indices:
    """``(train, val, test)`` indices of ``count`` rows under ``rule``: ``random`` (fractions, seed),
    ``scaffold`` (needs ``smiles``; ``scaffold`` gives each one's, when they are known already) or
    ``column`` (needs the column's ``labels``)."""
    if rule == "random":
        return random_split(count, fractions, seed)
    if rule == "scaffold":
        if smiles is None:
            raise PartOptionError("split scaffold needs molecules (SMILES); use split: random or column.")
        return scaffold_split(smiles, fractions, scaffold)
    if rule == "column":
        if labels is None:
            raise PartOptionError(f"split column: there is no column {column!r} (data.options.split_column).")
        return column_split(labels, column)
    raise PartOptionError(f"unknown split rule {rule!r}; use random, scaffold or column.")


def graph_dataset(graphs: Sequence[Data], parts: Indices, task: str | None, metric: str | None,
                  directory: Path | None, molecules: bool = False) -> SplitDataset:
    """Graph-level splits of ``graphs`` (each ``y`` one row of targets) by the ``parts`` indices.

    Args:
        graphs (sequence of Data): every graph, each with ``y`` of its targets.
        parts (tuple of Tensor): train, val and test indices into ``graphs``.
        task (str, optional): ``data.options.task`` (None: inferred).
        metric (str, optional): ``data.options.metric`` (None: the task's default).
        directory (Path, optional): where the data lives (caches go beside it).
        molecules (bool): OGB ``smiles2graph`` features.
    """
    if any(graph.y is None for graph in graphs):
        raise PartOptionError("some graphs have no targets (y); every graph of a graph-level dataset needs its y.")
    widths = {graph.y.numel() for graph in graphs}
    if len(widths) > 1:
        raise PartOptionError(f"the graphs' y hold different numbers of values "
                              f"({', '.join(map(str, sorted(widths)[:5]))}); "
                              f"a graph-level dataset needs one row of targets per graph (node-level tasks on several "
                              f"graphs, a y per node, are not supported yet).")
    targets = torch.cat([graph.y.reshape(1, -1) for graph in graphs])
    info, kind = task_info(graphs, targets, "graph", task, metric, molecules)
    shaped = [with_node_features(graph.clone()) for graph in graphs]
    for graph in shaped:
        graph.y = shape_targets(graph.y, kind, "graph")
    train, val, test = ([shaped[i] for i in part.tolist()] for part in parts)
    log.info("%d / %d / %d graphs; task %s, %d outputs, metric %s", len(train), len(val), len(test), info.task,
             info.num_outputs, info.metric)
    return SplitDataset(train, val, test, info, directory=directory)


def node_dataset(graph: Data, masks: tuple[Tensor, Tensor, Tensor], task: str | None, metric: str | None,
                 directory: Path | None) -> SplitDataset:
    """Node-level splits of one graph (``y [N]`` or ``[N, columns]``) by boolean node ``masks`` ``[N]``.

    Args:
        graph (Data): the graph.
        masks (tuple of Tensor): train, val and test node masks.
        task (str, optional): ``data.options.task`` (None: inferred).
        metric (str, optional): ``data.options.metric`` (None: the task's default).
        directory (Path, optional): where the data lives.
    """
    if graph.y is None or graph.y.size(0) != graph.num_nodes:
        raise PartOptionError("a node-level graph needs y with one row per node.")
    graph = with_node_features(Data(x=graph.x, edge_index=graph.edge_index, y=graph.y, num_nodes=graph.num_nodes))
    labelled = masks[0] | masks[1] | masks[2]
    y = graph.y if graph.y.dim() > 1 else graph.y.view(-1, 1)
    info, kind = task_info([graph], y[labelled], "node", task, metric)
    graph.y = shape_targets(graph.y, kind, "node")
    log.info("%d / %d / %d nodes; task %s, %d outputs, metric %s", *(int(m.sum()) for m in masks), info.task,
             info.num_outputs, info.metric)
    return SplitDataset.of_one_graph(graph, masks, info, directory=directory)


def joined(parts: Sequence[Sequence[Data]]) -> tuple[list[Data], Indices]:
    """Three lists of graphs (train, val, test) as one list and each part's indices into it."""
    graphs = [graph for part in parts for graph in part]
    ends = torch.tensor([len(part) for part in parts]).cumsum(0).tolist()
    starts = [0] + ends[:2]
    indices = tuple(torch.arange(start, end) for start, end in zip(starts, ends, strict=True))
    return graphs, indices  # type: ignore[return-value]


def masks_of(parts: Indices, num_nodes: int) -> tuple[Tensor, Tensor, Tensor]:
    """Boolean ``[N]`` masks of ``(train, val, test)`` node indices."""
    masks = tuple(torch.zeros(num_nodes, dtype=torch.bool) for _ in parts)
    for mask, part in zip(masks, parts, strict=True):
        mask[part] = True
    return masks  # type: ignore[return-value]
