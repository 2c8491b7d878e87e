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
CSV_MOLECULES = "http://snap.stanford.edu/ogb/data/graphproppred/csv_mol_download"
DATASETS = {
    "ogbg-molhiv": (MOLECULE, f"{CSV_MOLECULES}/hiv.zip"),
    "ogbg-molpcba": (replace(MOLECULE, task="multilabel", num_outputs=128, metric="ap", evaluator="ogbg-molpcba"),
                     f"{CSV_MOLECULES}/pcba.zip"),
    "ogbg-molbbbp": (replace(MOLECULE, evaluator="ogbg-molbbbp"), f"{CSV_MOLECULES}/bbbp.zip"),
    "ogbg-molbace": (replace(MOLECULE, evaluator="ogbg-molbace"), f"{CSV_MOLECULES}/bace.zip"),
    "ogbg-moltox21": (replace(MOLECULE, task="multilabel", num_outputs=12, evaluator="ogbg-moltox21"),
                      f"{CSV_MOLECULES}/tox21.zip"),
    "ogbg-molesol": (replace(MOLECULE, task="regression", metric="rmse", evaluator="ogbg-molesol"),
                     f"{CSV_MOLECULES}/esol.zip"),
}
"""Each OGB molecule dataset's task and OGB's zip."""


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


def _register(name: str, summary: str) -> None:
    def loader(root: str, download: bool = True) -> SplitDataset:
        return load_ogb_molecules(name, root, download)

    loader.__name__ = loader.__qualname__ = name.replace("-", "_")
    loader.__doc__ = f"""{summary}

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files through ``ogb``; ``graphformers data build-ogb``
            rebuilds the MoleculeNet-based ones from their CSVs. (default: :obj:`True`)
    """
    loader.__module__ = __name__
    register_dataset(name, DATASETS[name][0], raw_files(name))(loader)


_register("ogbg-molhiv", "OGB ogbg-molhiv: 41,127 molecules, HIV inhibition (graph binary, ROC-AUC, scaffold "
                         "split).")
_register("ogbg-molpcba", "OGB ogbg-molpcba: 437,929 molecules, 128 bioassays with missing labels (AP, scaffold "
                          "split).")
_register("ogbg-molbbbp", "OGB ogbg-molbbbp: 2,039 molecules, blood-brain barrier penetration (graph binary, ROC-AUC, "
                          "scaffold split).")
_register("ogbg-molbace", "OGB ogbg-molbace: 1,513 molecules, BACE-1 inhibition (graph binary, ROC-AUC, scaffold "
                          "split).")
_register("ogbg-moltox21", "OGB ogbg-moltox21: 7,831 molecules, 12 toxicity assays with missing labels (ROC-AUC, "
                           "scaffold split).")
_register("ogbg-molesol", "OGB ogbg-molesol: 1,128 molecules, water solubility (graph regression, RMSE, scaffold "
                          "split).")
