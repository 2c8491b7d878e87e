"""Split rules for datasets given without code: ``random`` (fractions and a seed) and ``column`` (a
train/val/test label per row); ``scaffold`` is :func:`graphformers.data.scaffold_split.scaffold_split`."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from graphformers.data.scaffold_split import check_fractions
from graphformers.errors import PartOptionError

SPLIT_NAMES = {"train": 0, "val": 1, "valid": 1, "validation": 1, "test": 2}
"""Labels a split column may hold (case and surrounding spaces ignored); other values: in no split."""


def random_split(count: int, fractions: Sequence[float], seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """``(train, val, test)`` index tensors: a seeded permutation of ``range(count)`` cut at the fractions
    (train and val rounded down, test takes its share of the rest).

    Args:
        count (int): rows (graphs or nodes) to split.
        fractions (sequence of float): train, val and test shares.
        seed (int): seed of the permutation (``data.options.split_seed``).
    """
    train_share, val_share, test_share = check_fractions(fractions)
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    train_end = int(train_share * count)
    val_end = train_end + int(val_share * count)
    test_end = count if abs(train_share + val_share + test_share - 1) < 1e-9 else val_end + int(test_share * count)
    return tuple(order[start:end].sort().values  # type: ignore[return-value]
                 for start, end in ((0, train_end), (train_end, val_end), (val_end, test_end)))


def column_split(labels: Sequence[object], column: str) -> tuple[Tensor, Tensor, Tensor]:
    """``(train, val, test)`` index tensors from a column of ``train`` / ``val`` (``valid``) / ``test``
    labels; rows with another value (or none) are in no split.

    Args:
        labels (sequence): the column's value per row.
        column (str): its name, for the error when no row names a split.
    """
    parts: tuple[list[int], list[int], list[int]] = ([], [], [])
    for index, label in enumerate(labels):
        part = SPLIT_NAMES.get(str(label).strip().lower())
        if part is not None:
            parts[part].append(index)
    if not parts[0]:
        seen = sorted({str(label) for label in labels})[:5]
        raise PartOptionError(f"split column {column!r} marks no row as train (values seen: {seen}); it must hold "
                              f"train, val (or valid) and test.")
    return tuple(torch.tensor(part, dtype=torch.long) for part in parts)  # type: ignore[return-value]
