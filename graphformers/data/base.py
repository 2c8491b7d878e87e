"""The dataset contract: one :class:`DatasetSpec` per registered dataset, and the :class:`SplitDataset` its loader
returns."""
from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor
from torch_geometric.data import Data

from graphformers.errors import GraphformersError
from graphformers.io import exclusive
from graphformers.registry import RegistryError
from graphformers.task import TaskInfo

LOCK_FOLDER = ".locks"
"""The data root's folder of lock files, one per dataset and options being loaded (see :meth:`DatasetSpec.load`)."""


@dataclass(frozen=True)
class RawFile:
    """One official file: ``path`` relative to the data root, its direct-download ``url`` and, where
    published, its MD5; ``source`` says where to get it when there is no direct URL (an archive)."""

    path: str
    url: str | None = None
    md5: str | None = None
    source: str | None = None

    @property
    def name(self) -> str:
        """The file's name (what ``data place`` searches for)."""
        return Path(self.path).name


@dataclass
class SplitDataset:
    """A dataset's official train/validation/test split and its task; ``directory`` is where its
    files live (caches go next to them), None for generated datasets."""

    train: Sequence[Data]
    val: Sequence[Data]
    test: Sequence[Data]
    info: TaskInfo
    directory: Path | None = None

    @classmethod
    def of_one_graph(cls, graph: Data, masks: tuple[Tensor, Tensor, Tensor], info: TaskInfo,
                     directory: Path | None = None) -> SplitDataset:
        """One large graph shared by all three splits, each marking the nodes it scores with a
        ``target_mask [N]`` (train / val / test ``masks``): training sees every node's features and
        structure but only train labels. The splits share ``x``, ``edge_index`` and ``y``."""
        def split(mask: Tensor) -> list[Data]:
            return [Data(x=graph.x, edge_index=graph.edge_index, y=graph.y, target_mask=mask,
                         num_nodes=graph.num_nodes)]

        return cls(*(split(mask) for mask in masks), info, directory=directory)


@dataclass(frozen=True)
class DatasetSpec:
    """Everything the toolkit knows about one dataset before loading it.

    The loader is called as ``loader(root, **options)``: ``root`` is the data root (a ``str``;
    generated datasets ignore it), ``options`` the recipe's ``data.options``, which the loader's
    signature and its ``Args:`` docstring section define. It returns the official
    :class:`~graphformers.data.base.SplitDataset`, whose ``info`` must equal :meth:`task_info`.

    Args:
        name (str): the registered name (``data.name``).
        loader (callable): builds the splits, see above.
        info (TaskInfo or callable, optional): the task (level, outputs, metric, feature
            encoders); a function of the options when they change it (e.g. the number of
            classes), called as ``info(**options)``. :obj:`None`: known only once loaded (a recipe
            is then checked against it in the run's pre-flight).
        raw_files (tuple of RawFile, optional): the official files under the data root, with
            sources and checksums (:func:`~graphformers.data.raw_files.ensure_raw_files`, ``data place``).
        offline (bool, optional): whether it needs no download (generated in memory).
            (default: no raw files)
        num_splits (int, optional): how many official splits the dataset ships (the 10 fixed
            splits of Platonov et al.'s graphs); above 1 the loader takes ``split`` (``0`` to
            ``num_splits - 1``), which ``--splits`` sets. (default: :obj:`1`)
    """

    name: str
    loader: Callable[..., SplitDataset]
    info: TaskInfo | Callable[..., TaskInfo] | None = None
    raw_files: tuple[RawFile, ...] = field(default_factory=tuple)
    offline: bool | None = None
    num_splits: int = 1

    def __post_init__(self) -> None:
        if self.offline is None:
            object.__setattr__(self, "offline", not self.raw_files)
        if "root" not in inspect.signature(self.loader).parameters:
            raise RegistryError(f"dataset {self.name!r}: its loader {self.loader.__qualname__} must take the data "
                                f"root as a parameter named root (generated datasets ignore it): "
                                f"def {self.loader.__name__}(root: str, ...).")
        if self.num_splits > 1 and "split" not in inspect.signature(self.loader).parameters:
            raise RegistryError(f"dataset {self.name!r} declares {self.num_splits} official splits, so its loader "
                                f"{self.loader.__qualname__} must take the split to load as a parameter named split: "
                                f"def {self.loader.__name__}(root: str, split: int = 0, ...).")

    @property
    def metric(self) -> str | None:
        """The official metric with default options (None if the task is known only once loaded)."""
        info = self.task_info({})
        return info.metric if info else None

    def task_info(self, options: Mapping[str, Any]) -> TaskInfo | None:
        """The task with these ``data.options`` (None if known only once loaded)."""
        if self.info is None or isinstance(self.info, TaskInfo):
            return self.info
        return self.info(**options)

    def load(self, root: str | Path, options: Mapping[str, Any]) -> SplitDataset:
        """The splits under ``root`` with ``options``; raises if the loader's task differs from the declared one.

        The loader runs holding a lock of these options (``<root>/.locks/<name>-<hash of options>.lock``):
        the first load processes the raw files and writes them in place (PyG's ``InMemoryDataset``), so
        runs started together take turns, and the later ones read the finished files.

        Args:
            root (str or Path): the data root.
            options (mapping): the recipe's ``data.options``.
        """
        root = Path(root)
        options_key = hashlib.sha256(json.dumps(dict(options), sort_keys=True, default=str).encode()).hexdigest()[:12]
        with exclusive(root / LOCK_FOLDER / f"{self.name}-{options_key}.lock", f"dataset {self.name!r}"):
            splits = self.loader(root=str(root), **options)
        declared = self.task_info(options)
        if declared is not None and splits.info != declared:
            raise GraphformersError(f"dataset {self.name!r}: its loader returned task {splits.info}, but its "
                                    f"DatasetSpec declares {declared}; make the two agree.")
        return splits
