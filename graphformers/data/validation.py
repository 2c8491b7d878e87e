"""Checks every graph of a split once, at load time, so that bad data fails with the graph's index
and a fix instead of as NaN losses or an index error deep inside a scatter."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphformers.errors import GraphformersError
from graphformers.task import TaskInfo

CATEGORY_ENCODERS = {"embedding"}
"""Feature encoders whose input is one category id per row (``in_dim`` = number of categories)."""


class DataValidationError(GraphformersError, ValueError):
    """A graph that cannot be trained on; the message names the split, the graph and the fix."""


FIX_TASK_INFO = "fix the dataset's task info"
FIX_WIDTH = "make the dataset's TaskInfo and its graphs agree"


def validate_graphs(graphs: Sequence[Data], info: TaskInfo, split: str, fix: str | None = None) -> None:
    """Raise :class:`DataValidationError` for the first problem found in ``graphs``:
    NaN/inf node or edge features, non-finite targets (NaN is allowed where it marks a missing
    multilabel entry), edge indices outside ``[0, num_nodes)``, or feature widths (or category ids)
    that do not fit the task's feature encoders (``fix``: the advice for those, where the graphs,
    not the task, are to change)."""
    for index, graph in enumerate(graphs):
        where = f"{split} graph {index}"
        _check_edges(graph, where)
        for name, encoder, expected in (("x", info.node_encoder, info.node_in),
                                        ("edge_attr", info.edge_encoder, info.edge_in)):
            values = graph.get(name)
            if values is None or encoder is None:
                continue
            _check_finite(values, f"{where}: {name}", "features")
            _check_width(values, encoder, expected, f"{where}: {name}", fix)
        target = graph.get("y")
        if isinstance(target, Tensor) and target.is_floating_point():
            finite = torch.isfinite(target) | (torch.isnan(target) if info.task == "multilabel" else False)
            if not bool(finite.all()):
                raise DataValidationError(f"{where}: target y has non-finite values ({_first_bad(target, finite)}); "
                                          f"drop or fix these graphs (NaN marks a missing label only for multilabel "
                                          f"tasks).")


def _check_edges(graph: Data, where: str) -> None:
    edge_index = graph.get("edge_index")
    if edge_index is None or edge_index.numel() == 0:
        return
    low, high = int(edge_index.min()), int(edge_index.max())
    if low < 0 or high >= graph.num_nodes:
        raise DataValidationError(f"{where}: edge_index refers to node {low if low < 0 else high} but the graph has "
                                  f"{graph.num_nodes} nodes (valid: 0..{graph.num_nodes - 1}); fix its edges or "
                                  f"num_nodes.")


def _check_finite(values: Tensor, what: str, kind: str) -> None:
    if values.is_floating_point():
        finite = torch.isfinite(values)
        if not bool(finite.all()):
            raise DataValidationError(f"{what} has non-finite {kind} ({_first_bad(values, finite)}); "
                                      f"impute or drop them before training.")


def _check_width(values: Tensor, encoder: str, expected: int, what: str, fix: str | None = None) -> None:
    if encoder in CATEGORY_ENCODERS:
        if values.numel() and (int(values.min()) < 0 or int(values.max()) >= expected):
            raise DataValidationError(f"{what} holds category ids up to {int(values.max())}, but the {encoder!r} "
                                      f"encoder "
                                      f"has {expected} categories (ids 0..{expected - 1}); {fix or FIX_TASK_INFO}.")
        return
    width = values.size(-1) if values.dim() > 1 else 1
    if width != expected:
        raise DataValidationError(f"{what} has {width} features per row, but the {encoder!r} encoder expects "
                                  f"{expected}; {fix or FIX_WIDTH}.")


def _first_bad(values: Tensor, good: Tensor) -> str:
    position = tuple(int(i) for i in (~good).nonzero()[0])
    return f"{values[position].item()} at position {position}"
