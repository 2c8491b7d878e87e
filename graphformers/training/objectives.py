"""Loss and metric for each task type (torchmetrics for the metrics)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch
import torch.nn.functional as F
import torchmetrics
from torch import Tensor

from graphformers.metrics import METRICS, MISSING_LABEL, OGBEvaluatorMetric, SubtokenF1, higher_is_better
from graphformers.task import TaskInfo


@dataclass(frozen=True)
class Objective:
    """How to score predictions of one task: loss, metric factory, and whether higher is better."""

    loss: Callable[[Tensor, Tensor], Tensor]
    make_metric: Callable[[], torchmetrics.Metric]
    higher_is_better: bool


def _multiclass_loss(logits: Tensor, target: Tensor) -> Tensor:
    return F.cross_entropy(logits, target.view(-1).long())


def _binary_loss(logits: Tensor, target: Tensor) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits.view(-1), target.view(-1).to(logits.dtype))


def _multilabel_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Mean BCE over labelled entries only (OGB/LRGB mark missing labels with NaN).

    Missing entries get weight 0 rather than being selected out: the same mean, without a
    boolean selection (whose size the host must read) on every step; with no label at all the
    loss is 0 and still connected to the graph (for DDP and gradient accumulation)."""
    target = target.view(logits.shape).to(logits.dtype)
    labelled = ~torch.isnan(target)
    losses = F.binary_cross_entropy_with_logits(logits, torch.nan_to_num(target), weight=labelled.to(logits.dtype),
                                                reduction="sum")
    return losses / labelled.sum().clamp_min(1)


def _regression_loss(prediction: Tensor, target: Tensor) -> Tensor:
    return F.l1_loss(prediction, target.view(prediction.shape).to(prediction.dtype))


def sequence_targets(names: Tensor, vocabulary: int, length: int) -> Tensor:
    """``[B, length]`` class per position from ``[B, L]`` subtoken ids padded with -1 (OGB's
    ``encode_y_to_arr``): ids outside the first ``vocabulary - 2`` become ``__UNK__``
    (``vocabulary - 2``), positions past the end ``__EOS__`` (``vocabulary - 1``)."""
    unknown, end = vocabulary - 2, vocabulary - 1
    names = names[:, :length]
    if names.size(1) < length:
        names = F.pad(names, (0, length - names.size(1)), value=-1)
    return torch.where(names < 0, end, torch.where(names >= unknown, unknown, names))


def _sequence_loss(logits: Tensor, names: Tensor, vocabulary: int) -> Tensor:
    """Mean cross entropy over the predicted positions (OGB's and GraphGPS's code2 loss);
    ``logits [B, length * vocabulary]``, ``names [B, L]`` padded subtoken ids."""
    scores = logits.view(logits.size(0), -1, vocabulary)
    return F.cross_entropy(scores.transpose(1, 2), sequence_targets(names, vocabulary, scores.size(1)))


def objective_for(info: TaskInfo) -> Objective:
    """The loss and metric for ``info.task`` / ``info.metric`` (``ogb``'s Evaluator where ``info.evaluator``)."""
    losses = {"multiclass": _multiclass_loss, "binary": _binary_loss, "multilabel": _multilabel_loss,
              "regression": _regression_loss, "sequence": partial(_sequence_loss, vocabulary=info.num_outputs)}
    if info.task == "sequence":
        return Objective(losses["sequence"], partial(SubtokenF1, info.num_outputs), higher_is_better=True)
    if info.evaluator is not None:
        return Objective(losses[info.task], partial(OGBEvaluatorMetric, info.evaluator),
                         higher_is_better=higher_is_better(info.metric))
    key = (info.task, info.metric)
    if key not in METRICS:
        raise ValueError(f"No metric {info.metric!r} for task {info.task!r}; supported: {sorted(METRICS)}.")
    return Objective(losses[info.task], partial(METRICS[key], info.num_outputs),
                     higher_is_better=higher_is_better(info.metric))


def metric_inputs(task: str, output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Reshape ``(output, target)`` to what the task's torchmetrics metric expects."""
    if task == "multiclass":
        return output, target.view(-1).long()
    if task == "binary":
        return output.view(-1), target.view(-1).long()
    if task == "multilabel":
        target = target.view(output.shape)
        return output, torch.nan_to_num(target, nan=MISSING_LABEL).long()
    if task == "sequence":
        return output, target.long()
    return output, target.view(output.shape).float()
