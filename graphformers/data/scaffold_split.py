"""The split rules molecule datasets share: train/val/test shares, and the deterministic scaffold split
of OGB and MoleculeNet (used by the ``smiles-csv`` loader and by ``graphformers data build-ogb``)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from graphformers.errors import PartOptionError


def check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    """``fractions`` as three non-negative train/val/test shares summing to at most 1."""
    if len(fractions) != 3 or any(not 0 <= share <= 1 for share in fractions) or sum(fractions) > 1 + 1e-9:
        raise PartOptionError(f"data.options.fractions must be three shares (train, val, test) in [0, 1] that sum to "
                              f"at most 1, got {list(fractions)}; e.g. [0.8, 0.1, 0.1].")
    return tuple(float(share) for share in fractions)  # type: ignore[return-value]


Fractions = tuple[float, float, float]
"""Train, validation and test shares of a split (a recipe writes them as a list of three)."""


def murcko_scaffold(smiles: str) -> str:
    """The Bemis-Murcko scaffold of ``smiles``, with chirality (RDKit's ``MurckoScaffoldSmiles``)."""
    from rdkit.Chem.Scaffolds.MurckoScaffold import MurckoScaffoldSmiles

    return MurckoScaffoldSmiles(smiles=smiles, includeChirality=True)


def scaffold_split(smiles: Sequence[str], fractions: Sequence[float],
                   scaffold: Callable[[str], str] = murcko_scaffold) -> tuple[Tensor, Tensor, Tensor]:
    """``(train, val, test)`` index tensors of OGB's (and MoleculeNet's) deterministic scaffold split:
    molecules grouped by Bemis-Murcko scaffold (RDKit, with chirality), groups from largest to smallest
    (ties: the later first occurrence first), each group into train while it fits under the train
    share, else val while it fits under train + val, else test.

    Args:
        smiles (sequence of str): one SMILES per molecule, all parsable.
        fractions (sequence of float): train, val and test shares.
        scaffold (callable, optional): a molecule's scaffold from its SMILES (default: :func:`murcko_scaffold`).
    """
    train_share, val_share, _ = check_fractions(fractions)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, molecule in enumerate(smiles):
        groups[scaffold(molecule)].append(index)
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
