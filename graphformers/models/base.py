"""The model contract: a whole network from a recipe's ``model`` section and a dataset's task."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform

from graphformers.errors import PartOptionError

if TYPE_CHECKING:
    from graphformers.recipe import ModelConfig
    from graphformers.task import TaskInfo


class GraphModel(nn.Module):
    """Base class of registered models.

    A model is constructed as ``Model(config, info)``: ``config`` is the recipe's ``model``
    section (:class:`~graphformers.recipe.ModelConfig`), ``info`` the dataset's
    :class:`~graphformers.task.TaskInfo` (prediction level, output size, feature encoders).
    Options that cannot work together raise :class:`~graphformers.errors.PartOptionError` in the
    constructor; a recipe is checked by building its model, so they surface as recipe errors.

    ``forward(data, chunk=None)`` maps a PyG ``Batch`` to ``[num_graphs, outputs]`` (graph level),
    ``[N, outputs]`` (node level) or ``[N, hidden]`` node embeddings (link level). Models that
    declare :attr:`chunked_inference` honour ``chunk``: full-graph inference, layer by layer, with
    message passing on ``chunk`` target nodes at a time (``data.evaluate: full_graph``).

    Args:
        config (ModelConfig): the recipe's ``model`` section.
        info (TaskInfo): the dataset's task.
    """

    chunked_inference: bool = False
    options_type: Optional[type] = None
    """A dataclass whose fields are the model's own options (``model.options``), documented in its
    ``Args:`` section; the recipe checks ``model.options`` against it and ``graphformers list model
    NAME`` prints it. None: the model takes none."""

    def __init__(self, config: ModelConfig, info: TaskInfo) -> None:
        super().__init__()

    def precompute_transforms(self) -> list[BaseTransform]:
        """Transforms applied once to every graph before training (positional encodings, a mixer's
        structure); :class:`~graphformers.encoders.precompute.NodeEncoding` ones are batched and cached."""
        return []

    def check_graph_size(self, num_nodes: int) -> None:
        """Raise :class:`~graphformers.errors.GraphTooLargeError` if a graph of ``num_nodes``
        nodes is beyond the model (called before training with the largest graph a batch holds)."""

    def compile_for_training(self) -> None:
        """Compile, in place, the parts of the model where ``torch.compile`` (dynamic shapes) pays
        (``train.compile``); state-dict keys stay the same. Models where it does not pay refuse.

        Raises:
            PartOptionError: compiling this model is not worth it (the message says what was measured).
        """
        raise PartOptionError(f"train.compile: {type(self).__name__} is not compiled: it has not been measured to gain "
                              f"from torch.compile; set train.compile: false.")

    def start_epoch(self, epoch: int) -> None:
        """Called before each training epoch (0-based ``epoch``), for schedules that change the model
        itself (Polynormer's local-then-global phases). State it changes must be a buffer, so that
        checkpoints, resumption and testing the best checkpoint see it."""

    def forward(self, data: Batch, chunk: Optional[int] = None) -> Tensor:
        raise NotImplementedError
