"""``pyg``: any dataset class of ``torch_geometric.datasets``, by name and with its arguments, graph-
or node-level, under its own split or a split rule."""
from __future__ import annotations

import difflib
import inspect
from pathlib import Path
from typing import Any, Literal

import torch_geometric.datasets
from torch_geometric.data import Dataset

from graphformers.data.base import SplitDataset
from graphformers.data.custom.assemble import (
    graph_dataset,
    joined,
    masks_of,
    node_dataset,
    split_rows,
)
from graphformers.data.raw_files import MissingDataError
from graphformers.data.scaffold_split import Fractions
from graphformers.errors import PartOptionError
from graphformers.registry import register_dataset

OWN_SPLIT_NAMES = (("train", "val", "test"), ("train", "valid", "test"))
"""Values of a class's ``split`` argument for its three official parts (ZINC, LRGBDataset, GNNBenchmarkDataset...)."""


def dataset_class(name: str) -> type:
    """The class ``name`` of ``torch_geometric.datasets``, with a did-you-mean when there is none."""
    available = [attribute for attribute in dir(torch_geometric.datasets)
                 if inspect.isclass(getattr(torch_geometric.datasets, attribute))
                 and issubclass(getattr(torch_geometric.datasets, attribute), Dataset)]
    if name not in available:
        close = difflib.get_close_matches(name, available, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise PartOptionError(f"data.options.class: torch_geometric.datasets has no dataset class {name!r}.{hint}")
    return getattr(torch_geometric.datasets, name)


def _check_arguments(cls: type, arguments: dict[str, Any]) -> None:
    parameters = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    accepted = [name for name in parameters if name not in ("self", "root")]
    for argument in arguments:
        if argument == "root" or (argument not in accepted and not takes_any):
            close = difflib.get_close_matches(argument, accepted, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            fix = "the data root sets it (data.root)" if argument == "root" else f"its arguments: {', '.join(accepted)}"
            raise PartOptionError(f"data.options: {cls.__name__} takes no argument {argument!r}.{hint} ({fix})")


def _instantiate(cls: type, root: Path, arguments: dict[str, Any]) -> Dataset:
    try:
        return cls(str(root), **arguments)
    except (OSError, ConnectionError) as error:  # a failed download: urllib's URLError is an OSError
        raise MissingDataError(f"pyg: {cls.__name__}({arguments}) could not load or download its files under {root} "
                               f"({type(error).__name__}: {error}). Put its raw files there, in PyG's layout "
                               f"(e.g. {root}/<name>/raw/ for TUDataset and Planetoid).") from None


def _own_split(cls: type, root: Path, arguments: dict[str, Any]) -> tuple[Dataset, Dataset, Dataset] | None:
    """The class's three official parts, if it takes a ``split`` argument."""
    if "split" not in inspect.signature(cls.__init__).parameters or "split" in arguments:
        return None
    for names in OWN_SPLIT_NAMES:
        try:
            return tuple(_instantiate(cls, root, {**arguments,
                                                  "split": name}) for name in names)  # type: ignore[return-value]
        except (ValueError, AssertionError):
            continue
    return None


@register_dataset("pyg")
def pyg_dataset(root: str, split: Literal["own", "random", "scaffold"] = "own", fractions: Fractions = (0.8, 0.1, 0.1),
                split_seed: int = 0, split_index: int = 0, task: str | None = None, metric: str | None = None,
                **arguments: Any) -> SplitDataset:
    """Any class of ``torch_geometric.datasets``: ``{class: TUDataset, name: ENZYMES, split: random}``.

    Files go under ``<data root>/<class>/`` (the class's ``root``). A dataset of one graph whose
    ``y`` has a row per node is node-level; otherwise graph-level. The task is inferred from ``y``
    (:func:`~graphformers.data.custom.inference.infer_task`); graphs without node features get ``x = 1``.

    Args:
        root (str): the data root.
        split (str, optional): ``own``: the class's official parts (its ``split`` argument) or the
            graph's ``train_mask`` / ``val_mask`` / ``test_mask``; ``random``: ``fractions`` with
            ``split_seed``; ``scaffold``: Bemis-Murcko scaffolds of the graphs' ``smiles``. (default: :obj:`"own"`)
        fractions (three floats, optional): train, val and test shares for ``random`` and ``scaffold``. (default:
            :obj:`(0.8, 0.1, 0.1)`)
        split_seed (int, optional): seed of the ``random`` split. (default: :obj:`0`)
        split_index (int, optional): which column of two-dimensional masks (several official node splits). (default:
            :obj:`0`)
        task (str, optional): ``binary``, ``multiclass``, ``multilabel`` or ``regression`` (None: inferred). (default:
            :obj:`None`)
        metric (str, optional): the metric (None: the task's default: auroc, accuracy, ap, mae). (default: :obj:`None`)
        **arguments: ``class`` (the class name, required) and the class's own arguments (``name``, ...).
    """
    if "class" not in arguments:
        raise PartOptionError("data.options.class is required: the torch_geometric.datasets class to load "
                              "(e.g. {class: TUDataset, name: ENZYMES}).")
    arguments = dict(arguments)
    cls = dataset_class(arguments.pop("class"))
    _check_arguments(cls, arguments)
    directory = Path(root) / cls.__name__
    if split == "own" and (parts := _own_split(cls, directory, arguments)) is not None:
        graphs, indices = joined(parts)
        return graph_dataset(graphs, indices, task, metric, directory)
    dataset = _instantiate(cls, directory, arguments)
    graphs = [dataset[i] for i in range(len(dataset))]
    first = graphs[0]
    if len(graphs) == 1 and first.y is not None and first.y.size(0) == first.num_nodes > 1:
        return _node_level(first, split, fractions, split_seed, split_index, task, metric, directory, cls.__name__)
    if split == "own":
        raise PartOptionError(f"{cls.__name__} has no split of its own (no split argument); set data.options.split: "
                              f"random (with fractions and split_seed){' or scaffold' if 'smiles' in first else ''}.")
    smiles = [graph.smiles for graph in graphs] if "smiles" in first else None
    return graph_dataset(graphs, split_rows(split, len(graphs), fractions, split_seed, smiles), task, metric, directory)


def _node_level(graph: Any, split: str, fractions: list[float], seed: int, split_index: int, task: str | None,
                metric: str | None, directory: Path, name: str) -> SplitDataset:
    if split == "own":
        if not all(f"{part}_mask" in graph for part in ("train", "val", "test")):
            raise PartOptionError(f"{name}'s graph has no train_mask / val_mask / test_mask; set data.options.split: "
                                  f"random.")
        masks = tuple(graph[f"{part}_mask"] for part in ("train", "val", "test"))
        if masks[0].dim() > 1:
            if not 0 <= split_index < masks[0].size(1):
                raise PartOptionError(f"{name} has {masks[0].size(1)} official splits; data.options.split_index must "
                                      f"be 0 to {masks[0].size(1) - 1}, got {split_index}.")
            masks = tuple(mask[:, split_index] for mask in masks)
        return node_dataset(graph, masks, task, metric, directory)  # type: ignore[arg-type]
    if split != "random":
        raise PartOptionError(f"split {split} does not apply to the nodes of one graph; use own or random.")
    return node_dataset(graph, masks_of(split_rows(split, graph.num_nodes, fractions, seed), graph.num_nodes), task,
                        metric, directory)
