"""``graphs-file``: a ``torch.save``d list of PyG ``Data`` (or one ``Data``), or a folder of such files,
loaded with ``weights_only=True`` and PyG's classes allow-listed."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from torch_geometric.data import Data

from graphformers.data.base import SplitDataset
from graphformers.data.custom.assemble import graph_dataset, joined, split_rows
from graphformers.data.custom.smiles_csv import resolve
from graphformers.data.scaffold_split import Fractions
from graphformers.errors import PartOptionError, first_line
from graphformers.io import pyg_safe_globals
from graphformers.registry import register_dataset

SPLIT_FILES = ("train.pt", "val.pt", "test.pt")
"""A folder holding these three files is split by them (``split: own``)."""


def load_graphs(path: Path) -> list[Data]:
    """The graphs of one file: a ``Data`` or a list (or tuple) of them, loaded without running code."""
    try:
        with pyg_safe_globals():
            loaded = torch.load(path, weights_only=True)
    except Exception as error:  # noqa: BLE001 -- torch's unpickling errors have no common type
        raise PartOptionError(f"{path}: cannot be read as saved PyG graphs ({type(error).__name__}: "
                              f"{first_line(error)}); save a list of torch_geometric.data.Data with "
                              f"torch.save(graphs, path).") from None
    graphs = [loaded] if isinstance(loaded, Data) else loaded
    if not isinstance(graphs, (list, tuple)):
        raise PartOptionError(f"{path} holds a {type(loaded).__name__}, not a list of torch_geometric.data.Data; "
                              f"save a list of Data with torch.save(graphs, path).")
    for index, graph in enumerate(graphs):
        if not isinstance(graph, Data):
            raise PartOptionError(f"{path}: entry {index} is a {type(graph).__name__}, not a "
                                  f"torch_geometric.data.Data; every entry must be a Data (x, edge_index, y, ...).")
    return list(graphs)


def _files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.pt"))
    if not files:
        raise PartOptionError(f"{folder} holds no .pt files; save graphs there with torch.save(graphs, 'name.pt').")
    return files


@register_dataset("graphs-file")
def graphs_file(root: str, path: str, split: Literal["random", "own", "scaffold"] = "random",
                fractions: Fractions = (0.8, 0.1, 0.1), split_seed: int = 0, task: str | None = None,
                metric: str | None = None) -> SplitDataset:
    """Saved PyG graphs: ``{path: my_graphs.pt}``, each graph with ``y`` of its targets (graph level).

    Args:
        root (str): the data root.
        path (str): a ``.pt`` file, or a folder of them (read in name order), absolute or under the data root.
        split (str, optional): ``random`` (``fractions``, ``split_seed``); ``own``: a folder's ``train.pt``,
            ``val.pt`` and ``test.pt``; ``scaffold``: the graphs' ``smiles`` strings. (default: :obj:`"random"`)
        fractions (three floats, optional): train, val and test shares. (default: :obj:`(0.8, 0.1, 0.1)`)
        split_seed (int, optional): seed of the random split. (default: :obj:`0`)
        task (str, optional): ``binary``, ``multiclass``, ``multilabel`` or ``regression`` (None: inferred). (default:
            :obj:`None`)
        metric (str, optional): the metric (None: the task's default). (default: :obj:`None`)
    """
    location = resolve(root, path)
    directory = location if location.is_dir() else location.parent
    if split == "own":
        if not location.is_dir() or not all((location / name).exists() for name in SPLIT_FILES):
            raise PartOptionError(f"split own needs a folder with {', '.join(SPLIT_FILES)}; {location} is not one. Set "
                                  f"data.options.split: random.")
        graphs, indices = joined([load_graphs(location / name) for name in SPLIT_FILES])
        return graph_dataset(graphs, indices, task, metric, directory)
    graphs = [graph for file in (_files(location) if location.is_dir() else [location]) for graph in load_graphs(file)]
    smiles = [graph.smiles for graph in graphs] if split == "scaffold" and all("smiles" in g for g in graphs) else None
    return graph_dataset(graphs, split_rows(split, len(graphs), fractions, split_seed, smiles), task, metric, directory)
