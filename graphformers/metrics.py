"""The metrics runs are scored by, in one table (:data:`METRICS`): each metric's name, which way it
improves, whether it is a fraction, and the torchmetrics metric that computes it for each task type
it fits; and ``ogb``'s Evaluators as torchmetrics metrics. A leaf, read by the tasks
(:mod:`graphformers.task`), the datasets (which metrics a custom dataset may ask for), the recipe
checks, training and the experiments."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

import torch
import torchmetrics
from torch import Tensor

MISSING_LABEL = -1  # multilabel targets: NaN (OGB/LRGB's "not measured") becomes this and is ignored


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
        try:
            result = self.evaluator.eval({"y_true": targets, "y_pred": scores})
        except RuntimeError as error:  # ROC-AUC / AP of scores where no task has both classes labelled
            if not str(error).startswith("No positively labeled data"):
                raise
            return torch.tensor(float("nan"))  # undefined (a smoke run's few batches), as the checkpoint reads it
        return torch.tensor(result[self.evaluator.eval_metric], dtype=torch.float)


def _without_outputs(make: Callable[[], torchmetrics.Metric], outputs: int) -> torchmetrics.Metric:
    """``make()``, for metrics that do not take the output count."""
    return make()


@dataclass(frozen=True)
class Metric:
    """One metric a run can be scored by.

    Args:
        name (str): as datasets declare it and recipes' ``published:`` blocks name it.
        higher_is_better (bool): a score (:obj:`True`) or an error such as ``mae``.
        fraction (bool): reported in [0, 1] (papers often print such metrics as percentages).
        factories (mapping, optional): for each task type it scores, the torchmetrics metric for
            ``num_outputs`` outputs, a function of that count (partials, not lambdas: ``ddp_spawn``
            pickles them into each process). Empty for the names only ``ogb``'s Evaluators compute.
    """

    name: str
    higher_is_better: bool
    fraction: bool
    factories: Mapping[str, Callable[[int], torchmetrics.Metric]] = field(default_factory=dict)


_classification = torchmetrics.classification
METRICS: dict[str, Metric] = {metric.name: metric for metric in (
    Metric("accuracy", True, True, {"multiclass": partial(_classification.MulticlassAccuracy, average="micro")}),
    Metric("f1", True, True, {"multiclass": partial(_classification.MulticlassF1Score, average="macro"),
                              "sequence": SubtokenF1}),
    Metric("auroc", True, True, {
        "binary": partial(_without_outputs, _classification.BinaryAUROC),
        "multilabel": partial(_classification.MultilabelAUROC, average="macro", ignore_index=MISSING_LABEL)}),
    Metric("ap", True, True, {
        "binary": partial(_without_outputs, _classification.BinaryAveragePrecision),
        "multilabel": partial(_classification.MultilabelAveragePrecision, average="macro",
                              ignore_index=MISSING_LABEL)}),
    Metric("mae", False, False, {"regression": partial(_without_outputs, torchmetrics.MeanAbsoluteError)}),
    Metric("rmse", False, False, {"regression": partial(_without_outputs,
                                                          partial(torchmetrics.MeanSquaredError, squared=False))}),
    # link level: the mean over graphs of per-graph reciprocal ranks (link_prediction.py)
    Metric("mrr", True, True, {"link": partial(_without_outputs, torchmetrics.MeanMetric)}),
    Metric("mrr_filtered", True, True, {"link": partial(_without_outputs, torchmetrics.MeanMetric)}),
    # computed by ogb's Evaluators only (OGBEvaluatorMetric), under the names they report
    Metric("rocauc", True, True),
    Metric("acc", True, True),
)}
"""Every metric by name."""


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better; a name not in :data:`METRICS` (none recorded
    yet) counts as a score."""
    return METRICS[metric].higher_is_better if metric in METRICS else True
