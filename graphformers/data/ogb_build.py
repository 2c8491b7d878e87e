"""OGB's molecule datasets rebuilt from MoleculeNet's CSVs, in OGB's own on-disk layout, so that the
``ogbg-mol*`` loaders (and ``ogb`` itself) read them as they read OGB's download.

OGB made them so (``ogb/utils/mol.py``, snap-stanford/pretrain-gnns ``loader.py``): the CSV's
molecules in the CSV's order, graphs from ``ogb.utils.smiles2graph`` (here its feature functions on
the one RDKit parse of each SMILES that the scaffold also reads: the same arrays, tested), and the
deterministic scaffold split (Bemis-Murcko scaffolds with chirality, largest groups first;
:func:`~graphformers.data.scaffold_split.scaffold_split`). OGB stores each bond once
(``add_inverse_edge``) and the loader adds its reverse.

Which molecules are kept follows pretrain-gnns: BBBP leaves out the 11 SMILES RDKit cannot parse;
the other sets keep every row. RDKit's valence rules have since become stricter for some metals
and metalloids: today's RDKit (2026.09) refuses 7 HIV molecules (Al, B and Ge centres; 0-based data rows 137,
987, 12882, 18293, 30784, 30785, 35728) and 8 Tox21 ones (Al: rows 1322, 2290, 2297, 3558, 4565,
4649, 5538, 6723) that OGB's release holds. They are parsed here with RDKit's valence check off
(every other sanitisation step on) and featurised with OGB's own atom and bond feature
functions, which keeps OGB's molecule counts and split sizes; their features cannot be compared
with OGB's release here (its files cannot be downloaded), so they may differ from it.
"""
from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from graphformers.data.molecule_graphs import bemis_murcko_scaffold, graphs_and_scaffolds, ogb_graph
from graphformers.data.moleculenet import SOURCES, MoleculeNetSource
from graphformers.data.scaffold_split import scaffold_split
from graphformers.errors import GraphformersError
from graphformers.io import atomic_write_text


class OGBBuildError(GraphformersError, ValueError):
    """A source folder or CSV that cannot give the OGB dataset asked for."""



SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
BUILT_MARK = "rebuilt by graphformers"
"""In the release file of a folder this wrote (any other folder is OGB's download, never overwritten)."""
COMPARED = ("raw/num-node-list.csv.gz", "raw/num-edge-list.csv.gz", "raw/graph-label.csv.gz",
            "split/scaffold/test.csv.gz")
"""The files an existing OGB folder must agree with the CSV on."""


@dataclass(frozen=True)
class BuildReport:
    """What :func:`build_ogb` did: the dataset's folder, its molecules, and the CSV lines (1-based,
    header included) it left out or parsed with RDKit's valence check off."""

    directory: Path
    molecules: int
    left_out: tuple[int, ...]
    lenient: tuple[int, ...]
    existing: bool = False
    """The folder held OGB's files already, and they agree with the CSV (nothing was written)."""

    def lines(self) -> list[str]:
        """The report, a line per fact."""
        lines = [f"{self.directory}: {self.molecules:,} molecules"
                 + (" (OGB's files already there agree with the CSV; left as they are)" if self.existing else "")]
        if self.left_out:
            lines.append(f"left out {len(self.left_out)} SMILES RDKit cannot parse (as OGB did), CSV lines "
                         f"{', '.join(map(str, self.left_out))}")
        if self.lenient:
            lines.append(f"parsed {len(self.lenient)} SMILES with RDKit's valence check off (OGB's RDKit accepted "
                         f"them; today's refuses their valence), CSV lines {', '.join(map(str, self.lenient))}")
        return lines


def build_ogb(name: str, folder: Path, root: Path) -> BuildReport:
    """Write OGB dataset ``name`` under ``root`` (``<root>/<name with _>/``: ``mapping/mol.csv.gz``,
    ``raw/*.csv.gz``, ``split/scaffold/*.csv.gz``, ``RELEASE_v1.txt``) from the MoleculeNet CSV found
    under ``folder``. It is written to a staging folder and renamed (a half-written one is never
    left); an earlier build is replaced, but a folder of OGB's own files is never overwritten: if
    it agrees with the CSV nothing is written, and if not, :class:`OGBBuildError`.

    Args:
        name (str): one of :data:`SOURCES`.
        folder (Path): a folder holding the CSV (searched recursively, by file name).
        root (Path): the data root.
    """
    if name not in SOURCES:
        raise OGBBuildError(f"{name!r} is not built from MoleculeNet here; choose one of {', '.join(SOURCES)}.")
    source = SOURCES[name]
    table = _read_source(name, source, folder)
    smiles = [text if isinstance(text, str) else "" for text in table[source.smiles]]
    parsed = graphs_and_scaffolds(smiles)
    refused = [row for row, result in enumerate(parsed) if result is None]
    left_out = tuple(row + 2 for row in refused) if source.drops_unparsable else ()
    lenient = () if source.drops_unparsable else tuple(row + 2 for row in refused)
    if source.drops_unparsable:
        kept = [row for row, result in enumerate(parsed) if result is not None]
        table = table.iloc[kept].reset_index(drop=True)
        smiles, parsed = [smiles[row] for row in kept], [parsed[row] for row in kept]
    if not smiles:
        raise OGBBuildError(f"{source.csv} holds no molecules; is it the right file?")
    for row in refused if not source.drops_unparsable else ():
        molecule = _leniently_parsed(smiles[row], row, source)
        parsed[row] = ogb_graph(molecule), bemis_murcko_scaffold(molecule)
    graphs = [graph for graph, _ in parsed]
    scaffolds = {text: scaffold for text, (_, scaffold) in zip(smiles, parsed, strict=True)}
    split = scaffold_split(smiles, SPLIT_FRACTIONS, scaffold=scaffolds.__getitem__)
    directory = root / name.replace("-", "_")
    staging = directory.with_name(directory.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    _write_layout(staging, name, table, source, graphs, split)
    report = BuildReport(directory, len(graphs), left_out, lenient)
    release = directory / "RELEASE_v1.txt"
    if directory.exists() and not (release.is_file() and BUILT_MARK in release.read_text(encoding="utf-8")):
        differing = [file for file in COMPARED if not _same_table(directory / file, staging / file)]
        shutil.rmtree(staging)
        if differing:
            raise OGBBuildError(f"{directory} holds OGB's files for {name}, and its {', '.join(differing)} disagree "
                                f"with {source.csv}; they are left as they are (an OGB download is never "
                                f"overwritten). Give another --root, or remove the folder to rebuild it.")
        return BuildReport(directory, len(graphs), left_out, lenient, existing=True)
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)
    return report


def _same_table(ours: Path, built: Path) -> bool:
    """Whether two headerless gzipped CSV tables hold the same values (a missing one is not the same)."""
    if not ours.is_file():
        return False
    try:
        return pd.read_csv(ours, header=None).equals(pd.read_csv(built, header=None))
    except (OSError, ValueError, pd.errors.ParserError):
        return False


def _leniently_parsed(smiles: str, row: int, source: MoleculeNetSource):
    """RDKit's molecule of a SMILES today's RDKit refuses for an atom's valence only, with that check
    off (OGB's RDKit accepted them), or :class:`OGBBuildError` if it cannot be parsed at all."""
    from rdkit import Chem

    molecule = Chem.MolFromSmiles(smiles, sanitize=False)
    if molecule is not None:
        molecule.UpdatePropertyCache(strict=False)
        try:
            Chem.SanitizeMol(molecule, Chem.SanitizeFlags.SANITIZE_ALL ^ Chem.SanitizeFlags.SANITIZE_PROPERTIES)
        except Exception:  # noqa: BLE001 -- RDKit raises several types; any means the SMILES is not a molecule
            molecule = None
    if molecule is None:
        raise OGBBuildError(f"{source.csv} row {row + 2}: RDKit cannot parse the SMILES {smiles!r}; OGB's dataset "
                            f"holds every row of this file, so it is not MoleculeNet's {source.csv}?")
    return molecule


def _read_source(name: str, source: MoleculeNetSource, folder: Path) -> pd.DataFrame:
    """The CSV of ``source`` under ``folder``, with its SMILES and target columns checked."""
    if not folder.is_dir():
        raise OGBBuildError(f"{folder} is not a folder; give the folder that holds {source.csv}.")
    found = sorted(folder.rglob(source.csv))
    if not found:
        others = sorted({path.name for path in folder.rglob("*.csv")})[:5]
        raise OGBBuildError(f"{folder} holds no {source.csv}, the MoleculeNet file {name} is built from"
                            + (f" (it holds {', '.join(others)}: another dataset?)" if others else "") + ".")
    table = pd.read_csv(found[0])
    absent = [column for column in (source.smiles, *source.targets) if column not in table.columns]
    if absent:
        raise OGBBuildError(f"{found[0]} has no column {', '.join(map(repr, absent))}, which {name} needs; its "
                            f"columns are {', '.join(map(str, table.columns[:12]))}: not MoleculeNet's {source.csv}?")
    return table


def _write_layout(directory: Path, name: str, table: pd.DataFrame, source: MoleculeNetSource, graphs: list[dict],
                  split: tuple) -> None:
    """OGB's files for ``graphs`` (each bond once, as OGB stores molecules) and ``split``."""
    once = [graph["edge_index"][:, ::2] for graph in graphs]  # smiles2graph lists each bond both ways, in pairs
    tables = {
        "edge": np.concatenate([edges.T for edges in once]),
        "edge-feat": np.concatenate([graph["edge_feat"][::2] for graph in graphs]),
        "node-feat": np.concatenate([graph["node_feat"] for graph in graphs]),
        "num-node-list": np.array([[graph["num_nodes"]] for graph in graphs]),
        "num-edge-list": np.array([[edges.shape[1]] for edges in once]),
    }
    (directory / "raw").mkdir(parents=True)
    for stem, values in tables.items():
        pd.DataFrame(values).to_csv(directory / "raw" / f"{stem}.csv.gz", header=False, index=False,
                                    compression="gzip")
    labels = table[list(source.targets)]
    labels.to_csv(directory / "raw" / "graph-label.csv.gz", header=False, index=False, compression="gzip")
    (directory / "mapping").mkdir()
    mapping = labels.assign(smiles=table[source.smiles])
    mapping.to_csv(directory / "mapping" / "mol.csv.gz", index=False, compression="gzip")
    (directory / "split" / "scaffold").mkdir(parents=True)
    for part, indices in zip(("train", "valid", "test"), split, strict=True):
        with gzip.open(directory / "split" / "scaffold" / f"{part}.csv.gz", "wt") as file:
            file.write("".join(f"{index}\n" for index in indices.tolist()))
    atomic_write_text(directory / "RELEASE_v1.txt",
                      f"# {name}, {BUILT_MARK} from MoleculeNet's {source.csv} (graphformers data "
                      f"build-ogb): {len(graphs)} molecules, OGB's smiles2graph and scaffold split.\n")
