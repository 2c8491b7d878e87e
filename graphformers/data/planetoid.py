"""Planetoid citation graphs (Yang et al. 2016) under their public split, via PyG's ``Planetoid``:
``cora`` (2,708 papers, 7 classes) and ``citeseer`` (3,327 papers, 6 classes); 20 training nodes
per class, 500 validation and 1,000 test nodes; accuracy.

Features are row-normalised (PyG's ``NormalizeFeatures``) by default, as Kipf & Welling's GCN and
Velickovic et al.'s GAT train on them. Layout under the data root (PyG's):
``Planetoid/<Cora|CiteSeer>/raw/ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}``.
"""
from __future__ import annotations

from pathlib import Path

from torch_geometric.datasets import Planetoid
from torch_geometric.transforms import NormalizeFeatures

from graphformers.data.base import RawFile, SplitDataset
from graphformers.data.raw_files import ensure_via_library
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo

RAW_SOURCE = "https://github.com/kimiyoung/planetoid/raw/master/data"
PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
MD5 = {
    "cora": ("190831eee19d8f330d89d94b40a65c5a", "b29c36916768e1d2f55391c1aa9317ac", "c9083193a57057dd1238321e140194d7",
             "78344284e3ff7fd24eb9c307d51351eb", "48bf43f54fa5b86089a4bd0299795f10", "125d70817fe1fdbfdcad991995e81579",
             "b37c419cec179f45834467630c278e4c", "9b822cae1d01f41e8bf8782e20367c0e"),
    "citeseer": ("baeb0100b5a8af8d41f928113ce0a4e5", "c25ab826a7e95c0922ab625de705f7df",
                 "28486b4b9c4ee076b4eee2febd89ba86", "8b99f50aa950fbbf9a7a2b71ff9cac97",
                 "356894a73b7a7eff43c3580f2fcf92a4", "f0df7e5f859245e32987bfd224d01657",
                 "5f88483d5f5cc2b26b987bbbfb695005", "70af39d4dff8aaa5c63f8dc526b16534"),
}
PYG_NAMES = {"cora": "Cora", "citeseer": "CiteSeer"}
INFO = {
    "cora": TaskInfo(level="node", task="multiclass", num_outputs=7, metric="accuracy", node_encoder="linear",
                     node_in=1433),
    "citeseer": TaskInfo(level="node", task="multiclass", num_outputs=6, metric="accuracy", node_encoder="linear",
                         node_in=3703),
}


def raw_files(name: str) -> tuple[RawFile, ...]:
    """The eight ``ind.<name>.*`` files of PyG's layout, with the MD5s of the authors' files."""
    return tuple(RawFile(f"Planetoid/{PYG_NAMES[name]}/raw/ind.{name}.{part}", f"{RAW_SOURCE}/ind.{name}.{part}", md5)
                 for part, md5 in zip(PARTS, MD5[name], strict=True))


def load_planetoid(name: str, root: str, normalize_features: bool, download: bool) -> SplitDataset:
    """``name``'s graph under the public split, once per split with its ``target_mask [N]``.

    Args:
        name (str): ``cora`` or ``citeseer``.
        root (str): the data root.
        normalize_features (bool): divide each node's features by their sum.
        download (bool): let PyG download missing files (only into an absent folder).
    """
    folder = Path(root) / "Planetoid"
    ensure_via_library(name, Path(root), folder / PYG_NAMES[name], lambda: Planetoid(str(folder), PYG_NAMES[name]),
                       download)
    graph = Planetoid(str(folder), PYG_NAMES[name])[0]
    if normalize_features:
        graph = NormalizeFeatures()(graph)
    return SplitDataset.of_one_graph(graph, (graph.train_mask, graph.val_mask, graph.test_mask), INFO[name],
                                     directory=folder / PYG_NAMES[name])


def _register(name: str, summary: str) -> None:
    def loader(root: str, normalize_features: bool = True, download: bool = True) -> SplitDataset:
        return load_planetoid(name, root, normalize_features, download)

    loader.__name__ = loader.__qualname__ = name
    loader.__doc__ = f"""{summary}

    Args:
        root (str): the data root.
        normalize_features (bool, optional): row-normalise the bag-of-words features, as GCN and
            GAT do. (default: :obj:`True`)
        download (bool, optional): fetch missing raw files. (default: :obj:`True`)
    """
    loader.__module__ = __name__
    register_dataset(name, INFO[name], raw_files(name))(loader)


_register("cora", "Cora (Planetoid public split): 2,708 papers, 7 classes, 140 / 500 / 1,000 nodes (accuracy).")
_register("citeseer", "CiteSeer (Planetoid public split): 3,327 papers, 6 classes, 120 / 500 / 1,000 nodes (accuracy).")
