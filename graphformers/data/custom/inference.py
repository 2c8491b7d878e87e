"""The task and feature encoders of a dataset given without code, read from its graphs: what a
registered dataset declares in its :class:`~graphformers.task.TaskInfo`."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphformers.errors import PartOptionError
from graphformers.task import TASKS, TaskInfo

INFERABLE_TASKS = tuple(name for name, task in TASKS.items() if task.inferable)
"""The tasks a dataset given without code may have (``data.options.task``)."""


def infer_task(targets: Tensor, task: str | None = None) -> tuple[str, int]:
    """``(task, num_outputs)`` of ``[rows, columns]`` targets (NaN: a missing label).

    Integer targets in one column are classes (``binary`` with two, else ``multiclass``); targets that
    are all 0 or 1 are ``binary`` (one column, none missing) or ``multilabel``; any other floats are
    ``regression``. Integer-valued floats with more than two values (class ids read from a CSV) are
    regression unless ``task: multiclass`` says otherwise.

    Args:
        targets (Tensor): ``[rows, columns]`` every labelled row's targets.
        task (str, optional): the task, if set (``data.options.task``); checked against the targets.
    """
    if task is not None and task not in INFERABLE_TASKS:
        raise PartOptionError(f"data.options.task must be one of {', '.join(INFERABLE_TASKS)}, got {task!r}.")
    columns = targets.size(1)
    known = targets[~torch.isnan(targets.float())] if targets.is_floating_point() else targets.flatten()
    if known.numel() == 0:
        raise PartOptionError("the dataset has no labelled targets; check the target columns (or y).")
    binary_values = bool(((known == 0) | (known == 1)).all())
    missing = targets.is_floating_point() and bool(torch.isnan(targets).any())
    integer = not targets.is_floating_point() or bool((known == known.round()).all())
    if task is None:
        if not targets.is_floating_point() and columns == 1:
            task = "binary" if binary_values else "multiclass"
        elif binary_values:
            task = "binary" if columns == 1 and not missing else "multilabel"
        else:
            task = "regression"
    if task == "multiclass":
        if columns != 1 or not integer or bool((known < 0).any()) or missing:
            raise PartOptionError("task multiclass needs one target column of class ids 0, 1, 2, ... for every "
                                  "labelled row; set data.options.task to regression or multilabel.")
        return task, int(known.max()) + 1
    if task in ("binary", "multilabel") and not binary_values:
        raise PartOptionError(f"task {task} needs targets of 0 or 1, but they hold other values (e.g. "
                              f"{known[(known != 0) & (known != 1)][0].item()}); set data.options.task: regression.")
    if task == "binary" and (columns != 1 or missing):
        raise PartOptionError("task binary needs one target column with every label present; set "
                              "data.options.task: multilabel (it ignores missing labels).")
    if task == "regression" and missing:
        raise PartOptionError("regression targets have missing values (NaN), which regression cannot ignore; drop "
                              "those rows or fill them.")
    return task, columns


def pick_metric(task: str, metric: str | None) -> str:
    """``metric`` if it is one the task supports, else the task's default (``Task.default_metric``)."""
    if metric is None:
        return TASKS[task].default_metric
    supported = TASKS[task].metric_names()
    if metric not in supported:
        raise PartOptionError(f"data.options.metric {metric!r} does not score task {task}; choose one of "
                              f"{', '.join(supported)}.")
    return metric


def shape_targets(y: Tensor, task: str, level: str) -> Tensor:
    """Targets in the shape the task's loss reads: class ids ``[rows]`` (multiclass, long), else
    ``[rows, columns]`` floats (one row per graph at graph level, per node at node level)."""
    if task == "multiclass":
        return y.view(-1).long()
    if level == "graph":
        return y.reshape(1, -1).float()
    return y.reshape(y.size(0), -1).float()


def feature_encoder(values: Tensor | None, graphs: Sequence[Data], key: str) -> tuple[str | None, int]:
    """``(encoder, in)`` for node (``key="x"``) or edge (``"edge_attr"``) features: floats and several
    integer columns -> ``linear`` of their width; one integer column -> ``embedding`` of its categories
    (the largest id + 1 over all graphs); none -> no encoder.

    Args:
        values (Tensor, optional): the first graph's features, their type and width.
        graphs (sequence of Data): every graph (for the category count).
        key (str): the attribute.
    """
    if values is None:
        return None, 0
    width = values.size(1) if values.dim() > 1 else 1
    if values.is_floating_point() or width > 1:
        return "linear", width
    return "embedding", int(max(int(graph[key].max()) for graph in graphs if graph[key].numel())) + 1


def task_info(graphs: Sequence[Data], targets: Tensor, level: str, task: str | None, metric: str | None,
              molecules: bool = False) -> tuple[TaskInfo, str]:
    """The :class:`TaskInfo` of graphs given without code, and the task's name.

    Args:
        graphs (sequence of Data): every graph, all splits (features read from them).
        targets (Tensor): ``[rows, columns]`` the labelled rows' targets.
        level (str): ``graph`` or ``node``.
        task (str, optional): ``data.options.task``, or None to infer it.
        metric (str, optional): ``data.options.metric``, or None for the task's default.
        molecules (bool): the features are OGB's ``smiles2graph`` atoms and bonds (``atom`` / ``bond`` encoders).
    """
    kind, outputs = infer_task(targets, task)
    if molecules:
        node, node_in, edge, edge_in = "atom", 9, "bond", 3
    else:
        node, node_in = feature_encoder(graphs[0].x, graphs, "x")
        edge, edge_in = feature_encoder(graphs[0].edge_attr, graphs, "edge_attr")
    info = TaskInfo(level=level, task=kind, num_outputs=outputs, metric=pick_metric(kind, metric),
                    node_encoder=node or "linear", node_in=node_in, edge_encoder=edge, edge_in=edge_in)
    return info, kind
