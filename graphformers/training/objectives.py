"""Loss and metric for each task type (torchmetrics for the metrics)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
import torchmetrics
from torch import Tensor

from graphformers.data.task import TaskInfo

MISSING_LABEL = -1  # multilabel targets: NaN (OGB/LRGB's "not measured") becomes this and is ignored


@dataclass(frozen=True)
class Objective:
    """How to score predictions of one task: loss, metric factory, and whether higher is better."""

    loss: Callable[[Tensor, Tensor], Tensor]
    make_metric: Callable[[], torchmetrics.Metric]
    higher_is_better: bool


def _multiclass_loss(logits: Tensor, target: Tensor) -> Tensor:
    return F.cross_entropy(logits, target.view(-1).long())


def _binary_loss(logits: Tensor, target: Tensor) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits.view(-1), target.view(-1).float())


def _multilabel_loss(logits: Tensor, target: Tensor) -> Tensor:
    """BCE over labelled entries only (OGB/LRGB mark missing labels with NaN)."""
    target = target.view(logits.shape).float()
    labelled = ~torch.isnan(target)
    if not labelled.any():
        return logits.sum() * 0.0  # keeps the graph connected for DDP and gradient accumulation
    return F.binary_cross_entropy_with_logits(logits[labelled], target[labelled])


def _regression_loss(prediction: Tensor, target: Tensor) -> Tensor:
    return F.l1_loss(prediction, target.view(prediction.shape).float())


class OGBEvaluatorMetric(torchmetrics.Metric):
    """``ogb``'s official ``Evaluator`` as a torchmetrics metric (predictions gathered across
    batches and DDP ranks, scored once): OGB numbers exactly as the leaderboards compute them.

    ``update(scores, target)``: graph datasets take scores ``[N, tasks]`` (or ``[N]``) with missing
    labels as NaN or :data:`MISSING_LABEL`; node datasets (``ogbn-*``) take class scores ``[N, classes]``.
    """

    full_state_update = False

    def __init__(self, dataset: str) -> None:
        super().__init__()
        from ogb.graphproppred import Evaluator as GraphEvaluator
        from ogb.nodeproppred import Evaluator as NodeEvaluator

        self.node_level = dataset.startswith("ogbn-")
        self.evaluator = (NodeEvaluator if self.node_level else GraphEvaluator)(dataset)
        self.add_state("scores", default=[], dist_reduce_fx="cat")
        self.add_state("targets", default=[], dist_reduce_fx="cat")

    def update(self, scores: Tensor, target: Tensor) -> None:
        if self.node_level:
            self.scores.append(scores.detach().argmax(dim=-1, keepdim=True))
            self.targets.append(target.view(-1, 1))
            return
        target = target.float().view(scores.size(0), -1)
        self.scores.append(scores.detach().float().view(target.shape))
        self.targets.append(torch.where(target == MISSING_LABEL, torch.nan, target))

    def compute(self) -> Tensor:
        scores = torchmetrics.utilities.dim_zero_cat(self.scores).cpu().numpy()
        targets = torchmetrics.utilities.dim_zero_cat(self.targets).cpu().numpy()
        result = self.evaluator.eval({"y_true": targets, "y_pred": scores})
        return torch.tensor(result[self.evaluator.eval_metric], dtype=torch.float)


def objective_for(info: TaskInfo) -> Objective:
    """The loss and metric for ``info.task`` / ``info.metric`` (``ogb``'s Evaluator where ``info.evaluator``)."""
    losses = {"multiclass": _multiclass_loss, "binary": _binary_loss,
              "multilabel": _multilabel_loss, "regression": _regression_loss}
    if info.evaluator is not None:
        return Objective(losses[info.task], lambda: OGBEvaluatorMetric(info.evaluator),
                         higher_is_better=info.metric not in ("mae", "rmse"))
    n = info.num_outputs
    metrics: dict[tuple[str, str], Callable[[], torchmetrics.Metric]] = {
        ("multiclass", "accuracy"): lambda: torchmetrics.classification.MulticlassAccuracy(n, average="micro"),
        ("multiclass", "f1"): lambda: torchmetrics.classification.MulticlassF1Score(n, average="macro"),
        ("binary", "auroc"): torchmetrics.classification.BinaryAUROC,
        ("multilabel", "ap"): lambda: torchmetrics.classification.MultilabelAveragePrecision(
            n, average="macro", ignore_index=MISSING_LABEL),
        ("regression", "mae"): torchmetrics.MeanAbsoluteError,
        # link level: the mean over graphs of per-graph reciprocal ranks (link_prediction.py)
        ("binary", "mrr"): torchmetrics.MeanMetric,
        ("binary", "mrr_filtered"): torchmetrics.MeanMetric,
    }
    key = (info.task, info.metric)
    if key not in metrics:
        raise ValueError(f"No metric {info.metric!r} for task {info.task!r}; supported: {sorted(metrics)}.")
    return Objective(losses[info.task], metrics[key], higher_is_better=info.metric != "mae")


def metric_inputs(task: str, output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Reshape ``(output, target)`` to what the task's torchmetrics metric expects."""
    if task == "multiclass":
        return output, target.view(-1).long()
    if task == "binary":
        return output.view(-1), target.view(-1).long()
    if task == "multilabel":
        target = target.view(output.shape)
        return output, torch.nan_to_num(target, nan=MISSING_LABEL).long()
    return output, target.view(output.shape).float()
