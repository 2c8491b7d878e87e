"""Molecules as OGB's graphs: each SMILES parsed once by RDKit, on every CPU, and its graph (what
``ogb.utils.smiles2graph`` gives) and Bemis-Murcko scaffold both read off that one parse.

Used by ``graphformers data build-ogb`` and the ``smiles-csv`` loader (whose molecules, before,
were parsed three times on one core: to check the SMILES, by ``smiles2graph``, and for the scaffold).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphformers.parallel import process_map

Parsed = tuple[dict, str]
"""A molecule's graph (``smiles2graph``'s arrays: ``node_feat``, ``edge_index``, ``edge_feat``,
``num_nodes``) and its scaffold."""


def graphs_and_scaffolds(smiles: Sequence[object]) -> list[Parsed | None]:
    """:func:`graph_and_scaffold` of each SMILES, in order, on every CPU (RDKit's parse is the cost);
    None where RDKit refuses one or it is not a string. RDKit's own log is turned off: callers report
    refused SMILES by their rows."""
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")  # before the workers fork, so theirs is off too
    return process_map(graph_and_scaffold, list(smiles))


def graph_and_scaffold(smiles: object) -> Parsed | None:
    """The graph (:func:`ogb_graph`) and scaffold (:func:`bemis_murcko_scaffold`) of one SMILES parsed
    once, or None where RDKit refuses it or it is not a string."""
    from rdkit import Chem

    molecule = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) else None
    return None if molecule is None else (ogb_graph(molecule), bemis_murcko_scaffold(molecule))


def ogb_graph(molecule) -> dict:
    """OGB's graph of an RDKit molecule: what ``ogb.utils.smiles2graph`` gives for its SMILES (OGB's
    feature functions; each bond both ways, in pairs), without parsing the SMILES again."""
    from ogb.utils.features import atom_to_feature_vector, bond_to_feature_vector

    edges, features = [], []
    for bond in molecule.GetBonds():
        start, end, feature = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), bond_to_feature_vector(bond)
        edges += [(start, end), (end, start)]
        features += [feature, feature]
    return {"node_feat": np.array([atom_to_feature_vector(atom) for atom in molecule.GetAtoms()], dtype=np.int64),
            "edge_index": np.array(edges, dtype=np.int64).T.reshape(2, -1),
            "edge_feat": np.array(features, dtype=np.int64).reshape(-1, 3), "num_nodes": molecule.GetNumAtoms()}


def bemis_murcko_scaffold(molecule) -> str:
    """The Bemis-Murcko scaffold with chirality, as RDKit's ``MurckoScaffoldSmiles`` gives it, also for
    molecules parsed with the valence check off."""
    from rdkit import Chem

    scaffold = Chem.MurckoDecompose(molecule)
    scaffold.ClearComputedProps()
    scaffold.UpdatePropertyCache(strict=False)
    Chem.GetSymmSSSR(scaffold)
    return Chem.MolToSmiles(scaffold, True)
