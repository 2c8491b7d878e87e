"""LRGB PCQM-Contact (Dwivedi et al. 2022) via PyG's ``LRGBDataset``: for each molecule, predict which
atom pairs are in 3D contact (closer than 3.5 A yet at least 5 bonds apart); MRR, official split.

Each graph carries ``edge_label_index [2, P]`` (the contacts, both directions) and ``edge_label [P]``;
training adds freshly sampled negative pairs (:mod:`graphformers.training.link_prediction`).
``filtered_mrr=True`` reports the filtered MRR of Toenshoff et al. 2023 instead of LRGB's raw one.

Layout under the data root (PyG's): ``pcqm-contact/raw/{train,val,test}.pt`` (from ``pcqmcontact.zip``),
each a list of ``(x [N, 9], edge_attr [E, 3], edge_index [2, E], edge_label_index, edge_label)``.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from torch_geometric.datasets import LRGBDataset

from graphformers.data.raw_files import RawFile, declare, ensure_via_library
from graphformers.data.task import SplitDataset, TaskInfo
from graphformers.registry import register_dataset

NAME = "pcqm-contact"
SPLITS = ("train", "val", "test")
INFO = TaskInfo(level="link", task="binary", num_outputs=1, metric="mrr",
                node_encoder="atom", node_in=9, edge_encoder="bond", edge_in=3)
declare(NAME, [RawFile(f"{NAME}/raw/{split}.pt",
                       source=f"{LRGBDataset.urls[NAME]} (inside: {LRGBDataset.dwnld_file_name[NAME]}/{split}.pt)")
               for split in SPLITS])


@register_dataset(NAME)
def pcqm_contact(root: str = "datasets", download: bool = True, filtered_mrr: bool = False) -> SplitDataset:
    """LRGB PCQM-Contact: 529,434 molecules, contact prediction between atoms (link level, MRR).
    PyG downloads only into an absent folder: its ``download`` first deletes the raw folder."""
    ensure_via_library(NAME, Path(root), Path(root) / NAME, lambda: LRGBDataset(root, NAME), download)
    train, val, test = (LRGBDataset(root, NAME, split=split) for split in SPLITS)
    info = replace(INFO, metric="mrr_filtered") if filtered_mrr else INFO
    return SplitDataset(train, val, test, info, directory=Path(root) / NAME)
