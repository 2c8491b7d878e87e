"""The heterophilous node-classification graphs of Platonov et al. 2023 ("A critical look at the
evaluation of GNNs under heterophily", ICLR), each one graph with 10 official splits (50% / 25% /
25% of the nodes): ``minesweeper`` and ``tolokers`` (binary, ROC-AUC), and the filtered
``chameleon-filtered`` and ``squirrel-filtered`` (5 classes, accuracy; duplicate nodes of the
Wikipedia graphs removed).

Layout under the data root, PyG's ``HeterophilousGraphDataset`` layout for all four:
``<name>/raw/<name>.npz`` with ``<name>`` as the authors name the file (``minesweeper``,
``chameleon_filtered``); files are downloaded from the authors' repository, the URL PyG uses.
Each npz holds ``node_features [N, F]``, ``node_labels [N]``, ``edges [E, 2]`` (each undirected
edge once) and ``{train,val,test}_masks [10, N]``. The edges are made undirected, as the authors
and PyG do, and the features are used as stored (the authors normalise nothing).

Our own reader rather than PyG's class: PyG's knows only minesweeper and tolokers, and one
``np.load`` needs no processed cache (a test checks the graphs equal PyG's).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from graphformers.data.base import RawFile, SplitDataset
from graphformers.data.raw_files import ensure_raw_files
from graphformers.errors import PartOptionError
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo

URL = "https://github.com/yandex-research/heterophilous-graphs/raw/main/data"
NUM_SPLITS = 10


@dataclass(frozen=True)
class HeterophilousGraph:
    """One of the graphs: registered name, the authors' file stem, its MD5 and task."""

    name: str
    stem: str
    md5: str
    info: TaskInfo

    @property
    def raw_file(self) -> RawFile:
        """The npz under the data root, with its download URL and MD5."""
        return RawFile(f"{self.stem}/raw/{self.stem}.npz", f"{URL}/{self.stem}.npz", self.md5)


def _binary(features: int) -> TaskInfo:
    return TaskInfo(level="node", task="binary", num_outputs=1, metric="auroc", node_encoder="linear", node_in=features)


def _five_classes(features: int) -> TaskInfo:
    return TaskInfo(level="node", task="multiclass", num_outputs=5, metric="accuracy", node_encoder="linear",
                    node_in=features)


MINESWEEPER = HeterophilousGraph("minesweeper", "minesweeper", "8a1a79dc3ad99fcd948d95a2149191e1", _binary(7))
TOLOKERS = HeterophilousGraph("tolokers", "tolokers", "8d23e7819e472e2efb23ab6bab61bb1a", _binary(10))
CHAMELEON = HeterophilousGraph("chameleon-filtered", "chameleon_filtered", "c3ba22deb6ed69a3a427de25be215022",
                               _five_classes(2325))
SQUIRREL = HeterophilousGraph("squirrel-filtered", "squirrel_filtered", "28e3cffa2e503c435439b54dcaf9dbad",
                              _five_classes(2089))


def load_heterophilous(graph: HeterophilousGraph, root: str, split: int, download: bool) -> SplitDataset:
    """``graph`` under official split ``split`` (0-9): the one undirected graph shared by the three
    splits, each with its ``target_mask [N]``.

    Args:
        graph (HeterophilousGraph): which dataset.
        root (str): the data root.
        split (int): the official split, ``0`` to ``9``.
        download (bool): fetch the npz if it is missing.
    """
    if not 0 <= split < NUM_SPLITS:
        raise PartOptionError(f"{graph.name} has official splits 0 to {NUM_SPLITS - 1}, not {split}; set "
                              f"data.options.split to one of them (or run several with --splits 0-{NUM_SPLITS - 1}).")
    ensure_raw_files(graph.name, Path(root), download)
    with np.load(Path(root) / graph.raw_file.path) as raw:
        x = torch.from_numpy(raw["node_features"]).float()
        y = torch.from_numpy(raw["node_labels"]).long()
        edges = torch.from_numpy(raw["edges"]).long().t()
        masks = tuple(torch.from_numpy(raw[f"{part}_masks"][split]).bool() for part in ("train", "val", "test"))
    data = Data(x=x, y=y, edge_index=to_undirected(edges, num_nodes=x.size(0)), num_nodes=x.size(0))
    return SplitDataset.of_one_graph(data, masks, graph.info, directory=Path(root) / graph.stem)


def _register(graph: HeterophilousGraph, summary: str) -> None:
    def loader(root: str, split: int = 0, download: bool = True) -> SplitDataset:
        return load_heterophilous(graph, root, split, download)

    loader.__name__ = loader.__qualname__ = graph.stem
    loader.__doc__ = f"""{summary}

    Args:
        root (str): the data root.
        split (int, optional): the official split, ``0`` to ``9`` (``--splits 0-9`` runs all ten). (default: :obj:`0`)
        download (bool, optional): fetch the file if it is missing. (default: :obj:`True`)
    """
    loader.__module__ = __name__
    register_dataset(graph.name, graph.info, (graph.raw_file,), num_splits=NUM_SPLITS)(loader)


_register(MINESWEEPER,
          "Minesweeper (Platonov et al. 2023): 10,000-cell grid, is a cell a mine (node binary, ROC-AUC, 10 splits).")
_register(TOLOKERS,
          "Tolokers (Platonov et al. 2023): 11,758 crowd workers, banned or not (node binary, ROC-AUC, 10 splits).")
_register(CHAMELEON,
          "Chameleon, filtered (Platonov et al. 2023): 890 Wikipedia pages, 5 traffic classes (accuracy, 10 splits).")
_register(SQUIRREL,
          "Squirrel, filtered (Platonov et al. 2023): 2,223 Wikipedia pages, 5 traffic classes (accuracy, 10 splits).")
