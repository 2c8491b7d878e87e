"""Split rules for datasets given without code: ``random`` (fractions and a seed), ``scaffold``
(Bemis-Murcko scaffolds, OGB's molecule splits) and ``column`` (a train/val/test label per row)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import torch
from torch import Tensor

from graphformers.errors import PartOptionError

SPLIT_NAMES = {"train": 0, "val": 1, "valid": 1, "validation": 1, "test": 2}
"""Labels a split column may hold (case and surrounding spaces ignored); other values: in no split."""


def check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    """``fractions`` as three non-negative train/val/test shares summing to at most 1."""
    if len(fractions) != 3 or any(not 0 <= share <= 1 for share in fractions) or sum(fractions) > 1 + 1e-9:
        raise PartOptionError(f"data.options.fractions must be three shares (train, val, test) in [0, 1] that sum to "
                              f"at most 1, got {list(fractions)}; e.g. [0.8, 0.1, 0.1].")
    return tuple(float(share) for share in fractions)  # type: ignore[return-value]


Fractions = tuple[float, float, float]
"""Train, validation and test shares of a split (a recipe writes them as a list of three)."""


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


def scaffold_split(smiles: Sequence[str], fractions: Sequence[float]) -> tuple[Tensor, Tensor, Tensor]:
    """``(train, val, test)`` index tensors of OGB's (and MoleculeNet's) deterministic scaffold split:
    molecules grouped by Bemis-Murcko scaffold (RDKit, with chirality), groups from largest to smallest
    (ties: the later first occurrence first), each group into train while it fits under the train
    share, else val while it fits under train + val, else test.

    Args:
        smiles (sequence of str): one SMILES per molecule, all parsable.
        fractions (sequence of float): train, val and test shares.
    """
    from rdkit.Chem.Scaffolds.MurckoScaffold import MurckoScaffoldSmiles

    train_share, val_share, _ = check_fractions(fractions)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, molecule in enumerate(smiles):
        groups[MurckoScaffoldSmiles(smiles=molecule, includeChirality=True)].append(index)
    ordered = sorted(groups.values(), key=lambda group: (len(group), group[0]), reverse=True)
    train_cut, val_cut = train_share * len(smiles), (train_share + val_share) * len(smiles)
    parts: tuple[list[int], list[int], list[int]] = ([], [], [])
    for group in ordered:
        if len(parts[0]) + len(group) <= train_cut:
            parts[0].extend(group)
        elif len(parts[0]) + len(parts[1]) + len(group) <= val_cut:
            parts[1].extend(group)
        else:
            parts[2].extend(group)
    return tuple(torch.tensor(sorted(part), dtype=torch.long) for part in parts)  # type: ignore[return-value]


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
