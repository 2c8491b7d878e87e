"""A dataset's objective: the loss of its task type (:data:`graphformers.task.TASKS`) and the
metric it declares (:data:`graphformers.metrics.METRICS`), or ``ogb``'s Evaluator where it names one."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torchmetrics
from torch import Tensor

from graphformers.metrics import OGBEvaluatorMetric, higher_is_better
from graphformers.task import TASKS, TaskInfo


@dataclass(frozen=True)
class Objective:
    """How to score predictions of one task: loss, metric factory, and whether higher is better."""

    loss: Callable[[Tensor, Tensor], Tensor]
    make_metric: Callable[[], torchmetrics.Metric]
    higher_is_better: bool


def objective_for(info: TaskInfo) -> Objective:
    """The loss and metric for ``info.task`` / ``info.metric`` (``ogb``'s Evaluator where ``info.evaluator``
    names one and the task is scored by it)."""
    task = TASKS[info.task]
    factory = task.metric_factory(info.metric)
    if info.evaluator is not None and task.ogb_evaluator:
        make_metric = partial(OGBEvaluatorMetric, info.evaluator)
    elif factory is not None:
        make_metric = partial(factory, info.num_outputs)
    else:
        raise ValueError(f"No metric {info.metric!r} for task {info.task!r}; supported: {task.metric_names()}.")
    return Objective(partial(task.loss, info=info), make_metric, higher_is_better=higher_is_better(info.metric))
