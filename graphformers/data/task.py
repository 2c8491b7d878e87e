"""What a dataset asks of a model: prediction level, task type, sizes and metric."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional, Sequence

from torch import Tensor
from torch_geometric.data import Data

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


@dataclass
class SplitDataset:
    """A dataset's official train/validation/test split and its task; ``directory`` is where its
    files live (caches go next to them), None for generated datasets."""

    train: Sequence[Data]
    val: Sequence[Data]
    test: Sequence[Data]
    info: TaskInfo
    directory: Optional[Path] = None

    @classmethod
    def of_one_graph(cls, graph: Data, masks: tuple[Tensor, Tensor, Tensor], info: TaskInfo,
                     directory: Optional[Path] = None) -> SplitDataset:
        """One large graph shared by all three splits, each marking the nodes it scores with a
        ``target_mask [N]`` (train / val / test ``masks``): training sees every node's features and
        structure but only train labels. The splits share ``x``, ``edge_index`` and ``y``."""
        def split(mask: Tensor) -> list[Data]:
            return [Data(x=graph.x, edge_index=graph.edge_index, y=graph.y, target_mask=mask, num_nodes=graph.num_nodes)]

        return cls(*(split(mask) for mask in masks), info, directory=directory)

