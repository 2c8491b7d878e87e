"""Datasets (registered by name), their task descriptions, raw-file handling and the shared DataModule.

The contract is :class:`graphformers.data.base.DatasetSpec`. Each dataset lives in its own module
(``relay``, ``peptides``, ``zinc``, ``ogb_graphs``, ``ogb_nodes``, ``ogb_code2``, ``superpixels``, ``heterophilous``,
``planetoid``,
``pcqm_contact``), and the kinds given without code in ``custom``; :mod:`graphformers.data.catalog`
imports them all, which the dataset registry does on its first lookup, so importing this package
loads none of them (nor Lightning: the DataModule is :mod:`graphformers.data.datamodule`).
"""
from graphformers.data.base import DatasetSpec, RawFile, SplitDataset
from graphformers.data.raw_files import MissingDataError
from graphformers.registry import register_dataset
from graphformers.resources import data_root
from graphformers.task import TaskInfo

__all__ = ["DatasetSpec", "RawFile", "data_root", "MissingDataError", "register_dataset", "SplitDataset", "TaskInfo"]
