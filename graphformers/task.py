"""What a dataset asks of a model: prediction level, task type, sizes and metric (below the models,
which read it, and the datasets, which declare it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

Level = Literal["graph", "node", "link"]
TaskType = Literal["multiclass", "binary", "multilabel", "regression", "sequence"]


@dataclass(frozen=True)
class TaskInfo:
    """Describes a dataset's prediction task and input features.

    ``level="link"``: pairs of nodes inside each graph are scored (``task="binary"``, ``metric``
    ``"mrr"`` or ``"mrr_filtered"``; see :mod:`graphformers.training.link_prediction`).

    ``num_outputs`` is the number of classes (multiclass) or of targets/tasks (others); for
    ``task="sequence"`` it is the vocabulary size and ``sequence_length`` the number of positions
    predicted (a graph-level output of ``sequence_length * num_outputs`` scores).
    ``node_encoder`` / ``edge_encoder`` name the registered feature encoders that fit
    the raw features, ``node_in`` / ``edge_in`` their input size (feature width, or the
    number of categories for ``embedding``); ``edge_encoder=None`` means no edge features.
    ``evaluator`` names an ``ogb`` dataset whose official ``Evaluator`` computes ``metric``.
    """

    level: Level
    task: TaskType
    num_outputs: int
    metric: str
    node_encoder: str
    node_in: int
    edge_encoder: Optional[str] = None
    edge_in: int = 0
    evaluator: Optional[str] = None
    sequence_length: int = 1
