"""ZINC 12k (Dwivedi et al. 2020, "Benchmarking GNNs"): constrained-solubility regression, MAE, via PyG's ``ZINC``.

Layout under the data root (PyG's): ``zinc/raw/{train,val,test}.pickle`` (from
``molecules.zip``) and ``zinc/raw/{train,val,test}.index`` (the 12k subset's indices);
PyG writes ``zinc/subset/processed``. 10,000 / 1,000 / 1,000 graphs; 28 atom types
(``x [N, 1]``), 3 bond types (``edge_attr [E]``, 1-3).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from torch_geometric.data import download_url, extract_zip
from torch_geometric.datasets import ZINC

from graphformers.data.base import RawFile, SplitDataset
from graphformers.data.raw_files import ensure_raw_files
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo

SPLITS = ("train", "val", "test")
ARCHIVE = f"{ZINC.url} (file molecules/{{split}}.pickle inside)"
RAW_FILES = tuple([RawFile(f"zinc/raw/{split}.pickle", source=ARCHIVE.format(split=split)) for split in SPLITS]
                  + [RawFile(f"zinc/raw/{split}.index", ZINC.split_url.format(split)) for split in SPLITS])
INFO = TaskInfo(level="graph", task="regression", num_outputs=1, metric="mae",
                node_encoder="embedding", node_in=28, edge_encoder="embedding", edge_in=4)


def _download_molecules(raw: Path) -> None:
    """The pickles from ``molecules.zip``. Not PyG's ``ZINC.download``: it first deletes the whole raw
    folder, which would destroy files a user placed there by hand."""
    with tempfile.TemporaryDirectory() as temporary:
        extract_zip(download_url(ZINC.url, temporary, log=False), temporary, log=False)
        raw.mkdir(parents=True, exist_ok=True)
        for split in SPLITS:
            if not (raw / f"{split}.pickle").exists():
                shutil.move(str(Path(temporary) / "molecules" / f"{split}.pickle"), raw / f"{split}.pickle")


@register_dataset("zinc", INFO, RAW_FILES)
def zinc(root: str, download: bool = True) -> SplitDataset:
    """ZINC 12k subset with its official split (graph regression, MAE).

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files. (default: :obj:`True`)
    """
    directory = Path(root) / "zinc"
    if download and not all((directory / "raw" / f"{split}.pickle").exists() for split in SPLITS):
        try:
            _download_molecules(directory / "raw")
        except Exception:  # noqa: BLE001 -- offline or moved: ensure_raw_files reports what is missing
            pass
    ensure_raw_files("zinc", Path(root), download)
    train, val, test = (ZINC(str(directory), subset=True, split=split) for split in SPLITS)
    return SplitDataset(train, val, test, INFO, directory=directory)
