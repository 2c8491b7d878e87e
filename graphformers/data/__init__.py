"""Datasets (registered by name), their task descriptions, raw-file handling and the shared DataModule.

The contract is :class:`graphformers.data.base.DatasetSpec`. Each dataset lives in its own module
(``relay``, ``peptides``, ``zinc``, ``ogb_graphs``, ``ogb_nodes``, ``ogb_code2``, ``superpixels``, ``heterophilous``,
``planetoid``,
``pcqm_contact``), and the kinds given without code in ``custom``; :mod:`graphformers.data.catalog`
imports them all, which the dataset registry does on its first lookup, so importing this package
loads none of them (nor torch, until an export is used; nor Lightning: the DataModule is
:mod:`graphformers.data.datamodule`).
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "DatasetSpec": "graphformers.data.base",
    "RawFile": "graphformers.data.base",
    "SplitDataset": "graphformers.data.base",
    "MissingDataError": "graphformers.data.raw_files",
    "register_dataset": "graphformers.registry",
    "data_root": "graphformers.resources",
    "TaskInfo": "graphformers.task",
}
"""The names this package exports and their modules, imported on first use (PEP 562): the command
line reads :mod:`graphformers.data.moleculenet` without importing torch."""

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
