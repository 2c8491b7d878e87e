"""The model contract: a whole network from a recipe's ``model`` section and a dataset's task."""
from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform

from graphformers.errors import PartOptionError
from graphformers.recipe.schema import PartSpec, is_absent

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

    A model declares the ``model`` keys it reads (:attr:`reads`); the base constructor refuses a
    config that sets any other key to something but its default ("model.mixer is set, but gat
    does not read it"). Keys whose default is ``null`` take the model's own default from
    :attr:`defaults` (GPS: the gine block and full attention).

    ``forward(data, chunk=None)`` maps a PyG ``Batch`` to ``[num_graphs, outputs]`` (graph level),
    ``[N, outputs]`` (node level) or ``[N, hidden]`` node embeddings (link level). Models that
    declare :attr:`chunked_inference` honour ``chunk``: full-graph inference, layer by layer, with
    message passing on ``chunk`` target nodes at a time (``data.evaluate: full_graph``).

    Args:
        config (ModelConfig): the recipe's ``model`` section.
        info (TaskInfo): the dataset's task.
    """

    chunked_inference: bool = False
    reads: ClassVar[tuple[str, ...] | None] = None
    """The keys of the recipe's ``model`` section this model reads, besides ``name`` and ``options``
    (:obj:`None`: the model does not say, and no key is refused)."""
    defaults: ClassVar[dict[str, Any]] = {}
    """The model's values for keys it reads whose recipe default is ``null`` (``{"mixer": PartSpec("full")}``)."""
    options_type: type | None = None
    """A dataclass whose fields are the model's own options (``model.options``), documented in its
    ``Args:`` section; the recipe checks ``model.options`` against it and ``graphformers list model
    NAME`` prints it. None: the model takes none."""

    def __init__(self, config: ModelConfig, info: TaskInfo) -> None:
        super().__init__()
        self.check_reads(config)

    @classmethod
    def unread_keys(cls, config: ModelConfig) -> list[str]:
        """The keys of ``config`` this model does not read (:attr:`reads`) that are set to something
        but their default (``none`` for a part counts as not set: the model has no such part)."""
        if cls.reads is None:
            return []
        defaults = _config_defaults(config)
        return [key for key, default in defaults.items() if key not in ("name", "options", *cls.reads)
                and getattr(config, key) != default and not _no_part(getattr(config, key))]

    @classmethod
    def check_reads(cls, config: ModelConfig) -> None:
        """Raise :class:`~graphformers.errors.PartOptionError` for the first key :meth:`unread_keys` finds."""
        unread = cls.unread_keys(config)
        if unread:
            raise PartOptionError(f"model.{unread[0]} is set, but {config.name} does not read it; remove it (the keys "
                                  f"{config.name} reads: {', '.join(cls.reads or ())}, options).")

    @classmethod
    def without_unread(cls, config: ModelConfig) -> ModelConfig:
        """``config`` with the keys this model does not read at their defaults (for recipes saved
        before unread keys were refused: they could not change the model)."""
        defaults = _config_defaults(config)
        return dataclasses.replace(config, **{key: defaults[key] for key in cls.unread_keys(config)})

    @classmethod
    def resolved(cls, config: ModelConfig) -> ModelConfig:
        """``config`` with each key left ``null`` that the model has a default for (:attr:`defaults`) set to it."""
        missing = {key: copy.deepcopy(value) for key, value in cls.defaults.items() if getattr(config, key) is None}
        return dataclasses.replace(config, **missing) if missing else config

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

    def forward(self, data: Batch, chunk: int | None = None) -> Tensor:
        raise NotImplementedError


def _no_part(value: Any) -> bool:
    """Whether ``value`` is a part slot's ``none``."""
    return isinstance(value, PartSpec) and is_absent(value)


def _config_defaults(config: ModelConfig) -> dict[str, Any]:
    """Every key of a ``model`` section with its schema default."""
    return {field.name: field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
            for field in dataclasses.fields(config)}
