"""The dataset contract: one :class:`DatasetSpec` per registered dataset, and where data lives."""
from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, TypeVar, Union

from graphformers.data.task import SplitDataset, TaskInfo
from graphformers.errors import GraphformersError
from graphformers.registry import DATASETS, RegistryError

DATA_ROOT_VARIABLE = "GRAPHFORMERS_DATA"
DEFAULT_DATA_ROOT = Path("datasets")
Loader = TypeVar("Loader", bound=Callable[..., SplitDataset])


class DataRootError(GraphformersError, NotADirectoryError):
    """A data root that is not a folder."""


def data_root(root: Optional[str] = None) -> Path:
    """The data root: ``root`` (a recipe's ``data.root``) if set, else ``$GRAPHFORMERS_DATA``, else
    ``./datasets``; the one place this rule lives. Raises :class:`DataRootError` if it names a file.

    Args:
        root (str, optional): an explicit data root.
    """
    chosen = Path(root or os.environ.get(DATA_ROOT_VARIABLE) or DEFAULT_DATA_ROOT)
    if chosen.exists() and not chosen.is_dir():
        where = "data.root" if root else f"${DATA_ROOT_VARIABLE}" if os.environ.get(DATA_ROOT_VARIABLE) else "the data root"
        raise DataRootError(f"{where} {str(chosen)!r} is a file, not a folder; set data.root (or "
                            f"${DATA_ROOT_VARIABLE}) to a folder (it is created if missing).")
    return chosen


@dataclass(frozen=True)
class RawFile:
    """One official file: ``path`` relative to the data root, its direct-download ``url`` and, where
    published, its MD5; ``source`` says where to get it when there is no direct URL (an archive)."""

    path: str
    url: Optional[str] = None
    md5: Optional[str] = None
    source: Optional[str] = None

    @property
    def name(self) -> str:
        """The file's name (what ``data place`` searches for)."""
        return Path(self.path).name


@dataclass(frozen=True)
class DatasetSpec:
    """Everything the toolkit knows about one dataset before loading it.

    The loader is called as ``loader(root, **options)``: ``root`` is the data root (a ``str``;
    generated datasets ignore it), ``options`` the recipe's ``data.options``, which the loader's
    signature and its ``Args:`` docstring section define. It returns the official
    :class:`~graphformers.data.task.SplitDataset`, whose ``info`` must equal :meth:`task_info`.

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
    info: Union[TaskInfo, Callable[..., TaskInfo], None] = None
    raw_files: tuple[RawFile, ...] = field(default_factory=tuple)
    offline: Optional[bool] = None
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
    def metric(self) -> Optional[str]:
        """The official metric with default options (None if the task is known only once loaded)."""
        info = self.task_info({})
        return info.metric if info else None

    def task_info(self, options: Mapping[str, Any]) -> Optional[TaskInfo]:
        """The task with these ``data.options`` (None if known only once loaded)."""
        if self.info is None or isinstance(self.info, TaskInfo):
            return self.info
        return self.info(**options)

    def load(self, root: Path, options: Mapping[str, Any]) -> SplitDataset:
        """The splits under ``root`` with ``options``; raises if the loader's task differs from the declared one."""
        splits = self.loader(root=str(root), **options)
        declared = self.task_info(options)
        if declared is not None and splits.info != declared:
            raise GraphformersError(f"dataset {self.name!r}: its loader returned task {splits.info}, but its "
                                    f"DatasetSpec declares {declared}; make the two agree.")
        return splits


def register_dataset(name: str, info: Union[TaskInfo, Callable[..., TaskInfo], None] = None,
                     raw_files: tuple[RawFile, ...] = (), offline: Optional[bool] = None,
                     num_splits: int = 1) -> Callable[[Loader], Loader]:
    """Decorator registering a loader as dataset ``name`` (a :class:`DatasetSpec` with these fields).

    Args:
        name (str): the registered name.
        info (TaskInfo or callable, optional): see :class:`DatasetSpec`.
        raw_files (tuple of RawFile, optional): see :class:`DatasetSpec`.
        offline (bool, optional): see :class:`DatasetSpec`.
        num_splits (int, optional): see :class:`DatasetSpec`.
    """

    def decorate(loader: Loader) -> Loader:
        DATASETS.add(name, DatasetSpec(name, loader, info, tuple(raw_files), offline, num_splits), origin=loader.__module__)
        return loader

    return decorate
