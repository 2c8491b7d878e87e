"""LRGB Peptides (Dwivedi et al. 2022): ``peptides-func`` (10-task AP) and ``peptides-struct`` (11-target MAE).

15,535 peptide molecules as atom graphs, built from the official SMILES CSV with OGB's
``smiles2graph`` (9 categorical atom features, 3 bond features) and split by the official
stratified split, exactly as the LRGB / GraphGPS loaders do. Layout under the data root
(the LRGB release's): ``peptides-functional/raw/peptide_multi_class_dataset.csv.gz`` and
``peptides-functional/splits_random_stratified_peptide.pickle`` (likewise
``peptides-structural/...``). The processed graphs are cached in ``<dir>/processed``.
"""
from __future__ import annotations

import ast
import logging
import pickle
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from ogb.utils import smiles2graph
from torch_geometric.data import Data, InMemoryDataset

from graphformers.data.base import RawFile, SplitDataset
from graphformers.data.raw_files import ensure_raw_files
from graphformers.parallel import process_map
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo

log = logging.getLogger(__name__)

STRUCT_TARGETS = ("Inertia_mass_a", "Inertia_mass_b", "Inertia_mass_c", "Inertia_valence_a", "Inertia_valence_b",
                  "Inertia_valence_c", "length_a", "length_b", "length_c", "Spherocity", "Plane_best_fit")


@dataclass(frozen=True)
class PeptidesVariant:
    """One of the two Peptides tasks: its folder, files and task."""

    name: str
    directory: str
    csv: RawFile
    split: RawFile
    info: TaskInfo


FUNC = PeptidesVariant(
    "peptides-func", "peptides-functional",
    RawFile("peptides-functional/raw/peptide_multi_class_dataset.csv.gz",
            "https://www.dropbox.com/s/ol2v01usvaxbsr8/peptide_multi_class_dataset.csv.gz?dl=1",
            "701eb743e899f4d793f0e13c8fa5a1b4"),
    RawFile("peptides-functional/splits_random_stratified_peptide.pickle",
            "https://www.dropbox.com/s/j4zcnx2eipuo0xz/splits_random_stratified_peptide.pickle?dl=1",
            "5a0114bdadc80b94fc7ae974f13ef061"),
    TaskInfo(level="graph", task="multilabel", num_outputs=10, metric="ap",
             node_encoder="atom", node_in=9, edge_encoder="bond", edge_in=3),
)
STRUCT = PeptidesVariant(
    "peptides-struct", "peptides-structural",
    RawFile("peptides-structural/raw/peptide_structure_normalized_dataset.csv.gz",
            "https://www.dropbox.com/s/0d4aalmq4b4e2nh/peptide_structure_normalized_dataset.csv.gz?dl=1",
            "c240c1c15466b5c907c63e180fa8aa89"),
    RawFile("peptides-structural/splits_random_stratified_peptide_structure.pickle",
            "https://www.dropbox.com/s/9dfifzft1hqgow6/splits_random_stratified_peptide_structure.pickle?dl=1",
            "5a0114bdadc80b94fc7ae974f13ef061"),
    TaskInfo(level="graph", task="regression", num_outputs=len(STRUCT_TARGETS), metric="mae",
             node_encoder="atom", node_in=9, edge_encoder="bond", edge_in=3),
)


class PeptidesGraphs(InMemoryDataset):
    """All 15,535 graphs of one variant, processed once from the CSV and cached by PyG's ``InMemoryDataset``."""

    def __init__(self, root: Path, variant: PeptidesVariant) -> None:
        self.variant = variant
        super().__init__(str(root / variant.directory))
        self.load(self.processed_paths[0])

    @property
    def raw_file_names(self) -> list[str]:
        return [self.variant.csv.name]

    @property
    def processed_file_names(self) -> list[str]:
        return ["graphs.pt"]

    def download(self) -> None:
        raise AssertionError("raw files are ensured before construction")

    def process(self) -> None:
        table = pd.read_csv(self.raw_paths[0])
        log.info("%s: building %d molecular graphs (one-off)", self.variant.name, len(table))
        if self.variant is FUNC:
            targets = [ast.literal_eval(labels) for labels in table["labels"]]
        else:
            targets = table.loc[:, list(STRUCT_TARGETS)].to_numpy().tolist()
        graphs = process_map(smiles2graph, list(table["smiles"]))  # RDKit's parse is the cost: on every CPU
        self.save([_molecule(graph, target) for graph, target in zip(graphs, targets, strict=True)],
                  self.processed_paths[0])


def _molecule(graph: dict, target: list[float]) -> Data:
    """PyG's graph of ``smiles2graph``'s arrays, with its targets."""
    return Data(x=torch.from_numpy(graph["node_feat"]).long(), edge_index=torch.from_numpy(graph["edge_index"]).long(),
                edge_attr=torch.from_numpy(graph["edge_feat"]).long(), y=torch.tensor([target], dtype=torch.float),
                num_nodes=int(graph["num_nodes"]))


def load_peptides(variant: PeptidesVariant, root: str, download: bool) -> SplitDataset:
    """The variant's graphs under its official split (raw files checked against their published MD5s,
    so the split pickle is only unpickled when it is the official file)."""
    data_root = Path(root)
    ensure_raw_files(variant.name, data_root, download)
    graphs = PeptidesGraphs(data_root, variant)
    with (data_root / variant.split.path).open("rb") as file:
        split = pickle.load(file)
    index = {name: torch.as_tensor(split[name], dtype=torch.long) for name in ("train", "val", "test")}
    return SplitDataset(graphs[index["train"]], graphs[index["val"]], graphs[index["test"]], variant.info,
                        directory=data_root / variant.directory)


@register_dataset(FUNC.name, FUNC.info, (FUNC.csv, FUNC.split))
def peptides_func(root: str, download: bool = True) -> SplitDataset:
    """LRGB Peptides-func: 15,535 peptides, 10 binary functions (graph multilabel, average precision).

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files. (default: :obj:`True`)
    """
    return load_peptides(FUNC, root, download)


@register_dataset(STRUCT.name, STRUCT.info, (STRUCT.csv, STRUCT.split))
def peptides_struct(root: str, download: bool = True) -> SplitDataset:
    """LRGB Peptides-struct: 15,535 peptides, 11 normalised 3D-structure targets (graph regression, MAE).

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files. (default: :obj:`True`)
    """
    return load_peptides(STRUCT, root, download)
