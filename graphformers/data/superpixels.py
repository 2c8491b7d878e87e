"""LRGB PascalVOC-SP and COCO-SP (Dwivedi et al. 2022) via PyG's ``LRGBDataset``: node classification
of SLIC superpixels, macro F1, official splits.

Layout under the data root (PyG's): ``pascalvoc-sp/raw/{train,val,test}.pickle`` (from the
``voc_superpixels_edge_wt_region_boundary`` archive), likewise ``coco-sp/raw``. Node features
``x [N, 14]`` (RGB statistics and position), edge features ``[E, 2]``; 21 / 81 classes (COCO's
labels remapped to be contiguous by PyG).
"""
from __future__ import annotations

from pathlib import Path

from torch_geometric.datasets import LRGBDataset

from graphformers.data.base import RawFile, SplitDataset
from graphformers.data.raw_files import ensure_via_library
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo

SPLITS = ("train", "val", "test")
INFO = {name: TaskInfo(level="node", task="multiclass", num_outputs=classes, metric="f1",
                       node_encoder="linear", node_in=14, edge_encoder="linear", edge_in=2)
        for name, classes in (("pascalvoc-sp", 21), ("coco-sp", 81))}


def raw_files(name: str) -> tuple[RawFile, ...]:
    """The three split pickles of ``name``, from PyG's LRGB archive."""
    archive = f"{LRGBDataset.urls[name]} (inside: {LRGBDataset.dwnld_file_name[name]}/{{split}}.pickle)"
    return tuple(RawFile(f"{name}/raw/{split}.pickle", source=archive.format(split=split)) for split in SPLITS)


def load_superpixels(name: str, root: str, download: bool) -> SplitDataset:
    """``name``'s three splits. PyG downloads only into an absent folder: its ``download`` first deletes
    the raw folder, which would destroy files placed there by hand."""
    ensure_via_library(name, Path(root), Path(root) / name, lambda: LRGBDataset(root, name), download)
    train, val, test = (LRGBDataset(root, name, split=split) for split in SPLITS)
    return SplitDataset(train, val, test, INFO[name], directory=Path(root) / name)


@register_dataset("pascalvoc-sp", INFO["pascalvoc-sp"], raw_files("pascalvoc-sp"))
def pascalvoc_sp(root: str, download: bool = True) -> SplitDataset:
    """LRGB PascalVOC-SP: 11,355 superpixel graphs, 21 classes (node classification, macro F1).

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files. (default: :obj:`True`)
    """
    return load_superpixels("pascalvoc-sp", root, download)


@register_dataset("coco-sp", INFO["coco-sp"], raw_files("coco-sp"))
def coco_sp(root: str, download: bool = True) -> SplitDataset:
    """LRGB COCO-SP: 123,286 superpixel graphs, 81 classes (node classification, macro F1).

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files. (default: :obj:`True`)
    """
    return load_superpixels("coco-sp", root, download)
