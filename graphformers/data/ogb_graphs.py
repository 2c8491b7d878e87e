"""OGB molecule graph-property datasets via ``ogb``'s ``PygGraphPropPredDataset``: ``ogbg-molhiv``
(binary, ROC-AUC) and ``ogbg-molpcba`` (128 tasks with missing labels, AP), official scaffold
splits, metrics by ``ogb.graphproppred.Evaluator``.

Layout under the data root (OGB's): ``ogbg_molhiv/raw/*.csv.gz``,
``ogbg_molhiv/split/scaffold/{train,valid,test}.csv.gz`` and ``ogbg_molhiv/RELEASE_v1.txt``.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ogb.graphproppred import PygGraphPropPredDataset

from graphformers.data.base import RawFile, SplitDataset
from graphformers.data.raw_files import ensure_via_library
from graphformers.io import pyg_safe_globals
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo

RAW_TABLES = ("edge", "edge-feat", "node-feat", "graph-label", "num-node-list", "num-edge-list")
MOLECULE = TaskInfo(level="graph", task="binary", num_outputs=1, metric="rocauc", node_encoder="atom", node_in=9,
                    edge_encoder="bond", edge_in=3, evaluator="ogbg-molhiv")
DATASETS = {
    "ogbg-molhiv": (MOLECULE,
                    "http://snap.stanford.edu/ogb/data/graphproppred/csv_mol_download/hiv.zip"),
    "ogbg-molpcba": (replace(MOLECULE, task="multilabel", num_outputs=128, metric="ap", evaluator="ogbg-molpcba"),
                     "http://snap.stanford.edu/ogb/data/graphproppred/csv_mol_download/pcba.zip"),
}


def raw_files(name: str) -> tuple[RawFile, ...]:
    """The CSV tables, scaffold split and release file of OGB molecule dataset ``name``, from its zip."""
    directory, zip_url = name.replace("-", "_"), DATASETS[name][1]
    return tuple([RawFile(f"{directory}/raw/{table}.csv.gz", source=f"{zip_url} (inside: raw/{table}.csv.gz)")
                  for table in RAW_TABLES]
                 + [RawFile(f"{directory}/split/scaffold/{part}.csv.gz", source=f"{zip_url} (inside: split/scaffold/)")
                    for part in ("train", "valid", "test")]
                 + [RawFile(f"{directory}/RELEASE_v1.txt", source=f"{zip_url} (inside)")])


def load_ogb_molecules(name: str, root: str, download: bool) -> SplitDataset:
    """``name``'s graphs under its official split; downloads through ``ogb`` only into an absent folder
    (``ogb`` asks on stdin about a folder without a release file; we report missing files instead)."""
    info, _ = DATASETS[name]
    directory = Path(root) / name.replace("-", "_")
    with pyg_safe_globals():
        ensure_via_library(name, Path(root), directory, lambda: PygGraphPropPredDataset(name, root), download)
        dataset = PygGraphPropPredDataset(name, root)
        split = dataset.get_idx_split()
    return SplitDataset(dataset[split["train"]], dataset[split["valid"]], dataset[split["test"]], info,
                        directory=directory)


@register_dataset("ogbg-molhiv", DATASETS["ogbg-molhiv"][0], raw_files("ogbg-molhiv"))
def ogbg_molhiv(root: str, download: bool = True) -> SplitDataset:
    """OGB ogbg-molhiv: 41,127 molecules, HIV inhibition (graph binary, ROC-AUC, scaffold split).

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files through ``ogb``. (default: :obj:`True`)
    """
    return load_ogb_molecules("ogbg-molhiv", root, download)


@register_dataset("ogbg-molpcba", DATASETS["ogbg-molpcba"][0], raw_files("ogbg-molpcba"))
def ogbg_molpcba(root: str, download: bool = True) -> SplitDataset:
    """OGB ogbg-molpcba: 437,929 molecules, 128 bioassays with missing labels (AP, scaffold split).

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files through ``ogb``. (default: :obj:`True`)
    """
    return load_ogb_molecules("ogbg-molpcba", root, download)
