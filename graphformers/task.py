"""What a dataset asks of a model (:class:`TaskInfo`: level, task type, sizes, metric) and, in one
table (:data:`TASKS`), what each task type means: its loss, what its metric reads, its predictions
and its default metric. Below the models, which read it, and the datasets, which declare it; a new
task type is one entry here (its metrics: :data:`graphformers.metrics.METRICS`)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Batch

from graphformers.errors import GraphformersError
from graphformers.link_prediction import pair_scores, reciprocal_ranks_per_graph, training_pairs
from graphformers.metrics import METRICS, MISSING_LABEL

Level = Literal["graph", "node", "link"]


@dataclass(frozen=True)
class TaskInfo:
    """Describes a dataset's prediction task and input features.

    ``level="link"``: pairs of nodes inside each graph are scored (``task="link"``, ``metric``
    ``"mrr"`` or ``"mrr_filtered"``; see :mod:`graphformers.link_prediction`).

    ``num_outputs`` is the number of classes (multiclass) or of targets/tasks (others); for
    ``task="sequence"`` it is the vocabulary size and ``sequence_length`` the number of positions
    predicted (a graph-level output of ``sequence_length * num_outputs`` scores).
    ``node_encoder`` / ``edge_encoder`` name the registered feature encoders that fit
    the raw features, ``node_in`` / ``edge_in`` their input size (feature width, or the
    number of categories for ``embedding``); ``edge_encoder=None`` means no edge features.
    ``evaluator`` names an ``ogb`` dataset whose official ``Evaluator`` computes ``metric``.
    """

    level: Level
    task: str
    num_outputs: int
    metric: str
    node_encoder: str
    node_in: int
    edge_encoder: str | None = None
    edge_in: int = 0
    evaluator: str | None = None
    sequence_length: int = 1

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise GraphformersError(f"task {self.task!r} is not a task type ({', '.join(TASKS)}); a new type is one "
                                    f"Task in graphformers.task.TASKS.")
        if self.metric not in METRICS:
            raise GraphformersError(f"metric {self.metric!r} is not a metric ({', '.join(METRICS)}); a new one is one "
                                    f"Metric in graphformers.metrics.METRICS.")
        task = TASKS[self.task]
        if task.metric_factory(self.metric) is None and self.evaluator is None:
            raise GraphformersError(f"metric {self.metric!r} does not score {self.task} tasks (those: "
                                    f"{', '.join(task.metric_names())}; {self.metric!r} only through an ogb "
                                    f"Evaluator).")


def _multiclass_loss(logits: Tensor, target: Tensor, info: TaskInfo) -> Tensor:
    return F.cross_entropy(logits, target.view(-1).long())


def _binary_loss(logits: Tensor, target: Tensor, info: TaskInfo) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits.view(-1), target.view(-1).to(logits.dtype))


def _multilabel_loss(logits: Tensor, target: Tensor, info: TaskInfo) -> Tensor:
    """Mean BCE over labelled entries only (OGB/LRGB mark missing labels with NaN).

    Missing entries get weight 0 rather than being selected out: the same mean, without a
    boolean selection (whose size the host must read) on every step; with no label at all the
    loss is 0 and still connected to the graph (for DDP and gradient accumulation)."""
    target = target.view(logits.shape).to(logits.dtype)
    labelled = ~torch.isnan(target)
    losses = F.binary_cross_entropy_with_logits(logits, torch.nan_to_num(target), weight=labelled.to(logits.dtype),
                                                reduction="sum")
    return losses / labelled.sum().clamp_min(1)


def _regression_loss(prediction: Tensor, target: Tensor, info: TaskInfo) -> Tensor:
    """The loss the metric asks for: squared error for ``rmse`` (OGB's regression baselines train
    with MSE), absolute error otherwise (``mae``: ZINC, Peptides-struct)."""
    loss = F.mse_loss if info.metric == "rmse" else F.l1_loss
    return loss(prediction, target.view(prediction.shape).to(prediction.dtype))


def sequence_targets(names: Tensor, vocabulary: int, length: int) -> Tensor:
    """``[B, length]`` class per position from ``[B, L]`` subtoken ids padded with -1 (OGB's
    ``encode_y_to_arr``): ids outside the first ``vocabulary - 2`` become ``__UNK__``
    (``vocabulary - 2``), positions past the end ``__EOS__`` (``vocabulary - 1``)."""
    unknown, end = vocabulary - 2, vocabulary - 1
    names = names[:, :length]
    if names.size(1) < length:
        names = F.pad(names, (0, length - names.size(1)), value=-1)
    return torch.where(names < 0, end, torch.where(names >= unknown, unknown, names))


def _sequence_loss(logits: Tensor, names: Tensor, info: TaskInfo) -> Tensor:
    """Mean cross entropy over the predicted positions (OGB's and GraphGPS's code2 loss);
    ``logits [B, length * vocabulary]``, ``names [B, L]`` padded subtoken ids."""
    scores = logits.view(logits.size(0), -1, info.num_outputs)
    return F.cross_entropy(scores.transpose(1, 2), sequence_targets(names, info.num_outputs, scores.size(1)))


def _class_inputs(output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    return output, target.view(-1).long()


def _binary_inputs(output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    return output.view(-1), target.view(-1).long()


def _multilabel_inputs(output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    return output, torch.nan_to_num(target.view(output.shape), nan=MISSING_LABEL).long()


def _sequence_inputs(output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    return output, target.long()


def _regression_inputs(output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    return output, target.view(output.shape).float()


def _scored_rows(output: Tensor, batch: Batch, info: TaskInfo) -> tuple[Tensor, Tensor]:
    """``(output, target)`` of the graphs or nodes a split scores: the nodes in ``batch.target_mask``
    when the dataset marks them (one large graph shared by all splits), else every row."""
    if "target_mask" in batch:
        return output[batch.target_mask], batch.y[batch.target_mask]
    return output, batch.y


def _pair_rows(embeddings: Tensor, batch: Batch, info: TaskInfo) -> tuple[Tensor, Tensor]:
    """The scores of the batch's positive pairs and of freshly sampled negatives, and their labels."""
    pairs, labels = training_pairs(batch)
    return pair_scores(embeddings, pairs), labels


def _reciprocal_ranks(embeddings: Tensor, batch: Batch, info: TaskInfo) -> tuple[Tensor]:
    """Each positive pair's reciprocal rank among its graph's candidates (LRGB's MRR, filtered or raw)."""
    return (reciprocal_ranks_per_graph(embeddings, batch, filtered=info.metric == "mrr_filtered"),)


def _class_columns(info: TaskInfo, targets: list[str]) -> list[str]:
    return [f"p_class_{k}" for k in range(info.num_outputs)]


def _label_columns(info: TaskInfo, targets: list[str]) -> list[str]:
    return [f"p_{name}" for name in targets]


def _value_columns(info: TaskInfo, targets: list[str]) -> list[str]:
    return list(targets)


def _token_columns(info: TaskInfo, targets: list[str]) -> list[str]:
    return [f"token_{k}" for k in range(info.sequence_length)]


def _as_they_are(predictions: Tensor) -> Tensor:
    return predictions


def _likeliest_tokens(predictions: Tensor) -> Tensor:
    return predictions.argmax(dim=-1)


def _softmax(output: Tensor, info: TaskInfo) -> Tensor:
    return output.softmax(dim=-1)


def _softmax_per_position(output: Tensor, info: TaskInfo) -> Tensor:
    return output.view(output.size(0), info.sequence_length, -1).softmax(dim=-1)


def _sigmoid(output: Tensor, info: TaskInfo) -> Tensor:
    return output.sigmoid()


def _values(output: Tensor, info: TaskInfo) -> Tensor:
    return output


@dataclass(frozen=True)
class Task:
    """What one task type means.

    Args:
        name (str): the task type (``TaskInfo.task``).
        loss (callable): ``loss(output, target, info)``, the training loss.
        metric_inputs (callable): ``(output, target)`` reshaped to what the task's torchmetrics
            metrics read.
        probabilities (callable): ``probabilities(output, info)``, the raw outputs as predictions
            (class probabilities, label probabilities, or the values themselves).
        default_metric (str): the metric of a custom dataset that names none.
        ogb_evaluator (bool): whether a dataset that names an ``ogb`` Evaluator is scored by it
            through :class:`~graphformers.metrics.OGBEvaluatorMetric` (sequences: their ``f1``
            metric is ogbg-code2's Evaluator already).
        inferable (bool): whether a dataset given without code may have this task
            (``data.options.task``, or read from its targets).
        scored (callable, optional): ``scored(model_output, batch, info)``, the ``(output, target)``
            the loss (and by default the metric) compares (default: the rows a split scores).
        ranked (callable, optional): ``ranked(model_output, batch, info)``, the metric's inputs for
            a task whose metric ranks candidates over the whole output (link: reciprocal ranks per
            graph); :obj:`None`: ``metric_inputs`` of the scored rows.
        scored_as (str, optional): the task type whose metrics (their torchmetrics factories in
            :data:`~graphformers.metrics.METRICS`) score this one (default: its own).
        predicts (str, optional): what :attr:`probabilities` gives, in words (default: probabilities).
        columns (callable, optional): ``columns(info, targets)``, the prediction table's column per
            output from the targets' names (default: ``p_<target>``).
        tabulated (callable, optional): the predictions as the table writes them (sequences: the
            likeliest token per position; default: as they are).
    """

    name: str
    loss: Callable[[Tensor, Tensor, TaskInfo], Tensor]
    metric_inputs: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]
    probabilities: Callable[[Tensor, TaskInfo], Tensor]
    default_metric: str
    ogb_evaluator: bool = True
    inferable: bool = True
    scored: Callable[[Tensor, Batch, TaskInfo], tuple[Tensor, Tensor]] = _scored_rows
    ranked: Callable[[Tensor, Batch, TaskInfo], tuple[Tensor, ...]] | None = None
    scored_as: str | None = None
    predicts: str = "probabilities"
    columns: Callable[[TaskInfo, list[str]], list[str]] = _label_columns
    tabulated: Callable[[Tensor], Tensor] = _as_they_are

    def metric_names(self) -> list[str]:
        """The metrics that score this task type, by name."""
        return sorted(name for name, metric in METRICS.items() if (self.scored_as or self.name) in metric.factories)

    def metric_factory(self, metric: str) -> Callable[[int], Any] | None:
        """The torchmetrics metric ``metric`` of this task type, a function of the output count (None: none)."""
        return METRICS[metric].factories.get(self.scored_as or self.name) if metric in METRICS else None

    def evaluation_inputs(self, model_output: Tensor, output: Tensor, target: Tensor, batch: Batch,
                          info: TaskInfo) -> tuple[Tensor, ...]:
        """What the task's metric is updated with for one batch.

        Args:
            model_output (Tensor): the model's output for ``batch``.
            output (Tensor): the scored rows (:attr:`scored`).
            target (Tensor): their targets.
            batch (Batch): the batch.
            info (TaskInfo): the dataset's task.
        """
        return self.ranked(model_output, batch, info) if self.ranked else self.metric_inputs(output, target)


TASKS: dict[str, Task] = {task.name: task for task in (
    Task("multiclass", _multiclass_loss, _class_inputs, _softmax, "accuracy", columns=_class_columns),
    Task("binary", _binary_loss, _binary_inputs, _sigmoid, "auroc"),
    Task("multilabel", _multilabel_loss, _multilabel_inputs, _sigmoid, "ap"),
    Task("regression", _regression_loss, _regression_inputs, _values, "mae", predicts="values in the targets' units",
         columns=_value_columns),
    Task("sequence", _sequence_loss, _sequence_inputs, _softmax_per_position, "f1", ogb_evaluator=False,
         inferable=False, predicts="the likeliest token per position", columns=_token_columns,
         tabulated=_likeliest_tokens),
    # pairs of nodes scored against sampled negatives (link_prediction.py), ranked per graph
    Task("link", _binary_loss, _binary_inputs, _sigmoid, "mrr", ogb_evaluator=False, inferable=False,
         scored=_pair_rows, ranked=_reciprocal_ranks, columns=_value_columns),
)}
"""Every task type by name (``TaskInfo.task``)."""
