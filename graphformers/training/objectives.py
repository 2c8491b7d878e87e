"""Loss and metric for each task type (torchmetrics for the metrics)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch
import torch.nn.functional as F
import torchmetrics
from torch import Tensor

from graphformers.data.task import TaskInfo

MISSING_LABEL = -1  # multilabel targets: NaN (OGB/LRGB's "not measured") becomes this and is ignored
LOWER_IS_BETTER = frozenset({"mae", "rmse"})
"""Metrics that are errors; every other metric is a score."""


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better (a score, not an error like ``mae``)."""
    return metric not in LOWER_IS_BETTER


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


class SubtokenF1(torchmetrics.Metric):
    """``ogb``'s ogbg-code2 Evaluator (per-graph F1 of predicted vs true subtoken sets, averaged) as a
    torchmetrics metric. Predictions are the argmax per position up to the first ``__EOS__``
    (OGB's ``decode_arr_to_seq``; a predicted ``__UNK__`` stays and counts as a false positive);
    references are the full true names (``[B, L]`` ids padded with -1)."""

    full_state_update = False

    def __init__(self, vocabulary: int) -> None:
        super().__init__()
        from ogb.graphproppred import Evaluator

        self.vocabulary = vocabulary
        self.evaluator = Evaluator("ogbg-code2")
        self.add_state("predicted", default=[], dist_reduce_fx="cat")
        self.add_state("names", default=[], dist_reduce_fx="cat")

    def update(self, logits: Tensor, names: Tensor) -> None:
        self.predicted.append(logits.detach().view(logits.size(0), -1, self.vocabulary).argmax(dim=-1))
        self.names.append(names)

    def compute(self) -> Tensor:
        predicted = torchmetrics.utilities.dim_zero_cat(self.predicted).tolist()
        names = torchmetrics.utilities.dim_zero_cat(self.names).tolist()
        end = self.vocabulary - 1
        seq_pred = [[str(i) for i in row[: row.index(end) if end in row else len(row)]] for row in predicted]
        seq_ref = [[str(i) for i in row if i >= 0] for row in names]
        return torch.tensor(self.evaluator.eval({"seq_ref": seq_ref, "seq_pred": seq_pred})["F1"], dtype=torch.float)


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


def _without_outputs(make: Callable[[], torchmetrics.Metric], outputs: int) -> torchmetrics.Metric:
    """``make()``, for metrics that do not take the output count."""
    return make()


# functions of the output count, partials and not lambdas: ddp_spawn pickles the module into each process
METRICS: dict[tuple[str, str], Callable[[int], torchmetrics.Metric]] = {
    ("multiclass", "accuracy"): partial(torchmetrics.classification.MulticlassAccuracy, average="micro"),
    ("multiclass", "f1"): partial(torchmetrics.classification.MulticlassF1Score, average="macro"),
    ("binary", "auroc"): partial(_without_outputs, torchmetrics.classification.BinaryAUROC),
    ("binary", "ap"): partial(_without_outputs, torchmetrics.classification.BinaryAveragePrecision),
    ("multilabel", "ap"): partial(torchmetrics.classification.MultilabelAveragePrecision, average="macro",
                                  ignore_index=MISSING_LABEL),
    ("multilabel", "auroc"): partial(torchmetrics.classification.MultilabelAUROC, average="macro",
                                     ignore_index=MISSING_LABEL),
    ("regression", "mae"): partial(_without_outputs, torchmetrics.MeanAbsoluteError),
    ("regression", "rmse"): partial(_without_outputs, partial(torchmetrics.MeanSquaredError, squared=False)),
    # link level: the mean over graphs of per-graph reciprocal ranks (link_prediction.py)
    ("binary", "mrr"): partial(_without_outputs, torchmetrics.MeanMetric),
    ("binary", "mrr_filtered"): partial(_without_outputs, torchmetrics.MeanMetric),
}
"""``(task, metric)`` -> the torchmetrics metric for ``num_outputs`` outputs (tasks without an ``ogb`` Evaluator)."""


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
