"""Datasets (registered by name), their task descriptions, raw-file handling and the shared DataModule.

The contract is :class:`graphformers.data.base.DatasetSpec`. Each dataset lives in its own module
(``relay``, ``peptides``, ``zinc``, ``ogb_graphs``, ``ogb_nodes``, ``ogb_code2``, ``superpixels``, ``heterophilous``, ``planetoid``,
``pcqm_contact``), and the kinds given without code in ``custom``; importing this package registers them all.
"""
from graphformers.data import (  # noqa: F401
    custom, heterophilous, ogb_code2, ogb_graphs, ogb_nodes, pcqm_contact, peptides, planetoid, relay, superpixels, zinc,
)
from graphformers.data.base import DatasetSpec, RawFile, data_root, register_dataset
from graphformers.data.datamodule import GraphDataModule, load_split_dataset
from graphformers.data.raw_files import MissingDataError
from graphformers.data.task import SplitDataset, TaskInfo

__all__ = ["DatasetSpec", "GraphDataModule", "RawFile", "data_root", "load_split_dataset", "MissingDataError",
           "register_dataset", "SplitDataset", "TaskInfo"]
