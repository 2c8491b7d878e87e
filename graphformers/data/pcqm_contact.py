"""LRGB PCQM-Contact (Dwivedi et al. 2022) via PyG's ``LRGBDataset``: for each molecule, predict which
atom pairs are in 3D contact (closer than 3.5 A yet at least 5 bonds apart); MRR, official split.

Each graph carries ``edge_label_index [2, P]`` (the contacts, both directions) and ``edge_label [P]``;
training adds freshly sampled negative pairs (:mod:`graphformers.link_prediction`).
``filtered_mrr=True`` reports the filtered MRR of Toenshoff et al. 2023 instead of LRGB's raw one.

Layout under the data root (PyG's): ``pcqm-contact/raw/{train,val,test}.pt`` (from ``pcqmcontact.zip``),
each a list of ``(x [N, 9], edge_attr [E, 3], edge_index [2, E], edge_label_index, edge_label)``.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from torch_geometric.datasets import LRGBDataset

from graphformers.data.base import RawFile, SplitDataset
from graphformers.data.raw_files import ensure_via_library
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo

NAME = "pcqm-contact"
SPLITS = ("train", "val", "test")
INFO = TaskInfo(level="link", task="link", num_outputs=1, metric="mrr",
                node_encoder="atom", node_in=9, edge_encoder="bond", edge_in=3)
RAW_FILES = tuple(RawFile(f"{NAME}/raw/{split}.pt",
                          source=f"{LRGBDataset.urls[NAME]} (inside: {LRGBDataset.dwnld_file_name[NAME]}/{split}.pt)")
                  for split in SPLITS)


def task_info(filtered_mrr: bool = False, **other_options: object) -> TaskInfo:
    """The task: LRGB's raw MRR, or the filtered MRR with ``filtered_mrr``."""
    return replace(INFO, metric="mrr_filtered") if filtered_mrr else INFO


@register_dataset(NAME, task_info, RAW_FILES)
def pcqm_contact(root: str, download: bool = True, filtered_mrr: bool = False) -> SplitDataset:
    """LRGB PCQM-Contact: 529,434 molecules, contact prediction between atoms (link level, MRR).
    PyG downloads only into an absent folder: its ``download`` first deletes the raw folder.

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files. (default: :obj:`True`)
        filtered_mrr (bool, optional): report Toenshoff et al.'s filtered MRR instead of LRGB's raw
            MRR. (default: :obj:`False`)
    """
    ensure_via_library(NAME, Path(root), Path(root) / NAME, lambda: LRGBDataset(root, NAME), download)
    train, val, test = (LRGBDataset(root, NAME, split=split) for split in SPLITS)
    return SplitDataset(train, val, test, task_info(filtered_mrr), directory=Path(root) / NAME)
