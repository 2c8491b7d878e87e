"""``smiles-csv``: molecules from a CSV with a SMILES column and target columns, as graphs with OGB's
atom and bond features (``ogb.utils.smiles2graph``)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import pandas as pd
import torch
from torch_geometric.data import Data

from graphformers.data.base import SplitDataset
from graphformers.data.custom.assemble import graph_dataset, split_rows
from graphformers.data.molecule_graphs import graphs_and_scaffolds, ogb_graph
from graphformers.data.raw_files import MissingDataError
from graphformers.data.scaffold_split import Fractions
from graphformers.errors import PartOptionError
from graphformers.registry import register_dataset

log = logging.getLogger(__name__)


def resolve(root: str, path: str) -> Path:
    """``path`` as given if absolute, else under the data root; a missing file is a :class:`MissingDataError`."""
    resolved = Path(path) if Path(path).is_absolute() else Path(root) / path
    if not resolved.exists():
        raise MissingDataError(f"{resolved} does not exist (data.options.path {path!r}, relative paths are under the "
                               f"data root {root}); set it to your file.")
    return resolved


def read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """The CSV (or TSV, by its suffix), after checking that it has ``columns``."""
    table = pd.read_csv(path, sep="\t" if path.suffix in (".tsv", ".tab") else ",")
    absent = [column for column in columns if column not in table.columns]
    if absent:
        raise PartOptionError(f"{path} has no column {', '.join(map(repr, absent))}; its columns are: "
                              f"{', '.join(map(str, table.columns))}.")
    return table


def molecule(smiles: str) -> Data | None:
    """``smiles`` as a graph with OGB's 9 atom and 3 bond features, or None if RDKit cannot parse it."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    parsed = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) else None
    return None if parsed is None else molecule_data(ogb_graph(parsed), smiles)


def molecule_data(graph: dict, smiles: str) -> Data:
    """PyG's graph of OGB's arrays (``smiles2graph``'s), with its SMILES."""
    return Data(x=torch.from_numpy(graph["node_feat"]).long(), edge_index=torch.from_numpy(graph["edge_index"]).long(),
                edge_attr=torch.from_numpy(graph["edge_feat"]).long(), num_nodes=int(graph["num_nodes"]), smiles=smiles)


@register_dataset("smiles-csv")
def smiles_csv(root: str, path: str, targets: list[str], smiles: str = "smiles",
               split: Literal["scaffold", "random", "column"] = "scaffold", fractions: Fractions = (0.8, 0.1, 0.1),
               split_seed: int = 0, split_column: str = "split", task: str | None = None,
               metric: str | None = None, skip_invalid: bool = False) -> SplitDataset:
    """Molecules from a CSV: ``{path: bbbp.csv, targets: [p_np], smiles: smiles}``.

    Empty target cells (NaN) are missing labels (a multilabel task ignores them). Rows whose SMILES
    RDKit cannot parse are reported with their line numbers, and skipped only with ``skip_invalid``.

    Args:
        root (str): the data root.
        path (str): the CSV (``.tsv``: tab-separated), absolute or under the data root.
        targets (list of str): the target columns.
        smiles (str, optional): the SMILES column. (default: :obj:`"smiles"`)
        split (str, optional): ``scaffold`` (OGB's Bemis-Murcko split), ``random`` or ``column``. (default:
            :obj:`"scaffold"`)
        fractions (three floats, optional): train, val and test shares for scaffold and random. (default: :obj:`(0.8,
            0.1, 0.1)`)
        split_seed (int, optional): seed of the random split. (default: :obj:`0`)
        split_column (str, optional): the column of train / val / test labels for ``split: column``. (default:
            :obj:`"split"`)
        task (str, optional): ``binary``, ``multiclass``, ``multilabel`` or ``regression`` (None: inferred). (default:
            :obj:`None`)
        metric (str, optional): the metric (None: the task's default). (default: :obj:`None`)
        skip_invalid (bool, optional): skip unparsable SMILES instead of refusing the file. (default: :obj:`False`)
    """
    file = resolve(root, path)
    table = read_table(file, [smiles] + list(targets) + ([split_column] if split == "column" else []))
    graphs, scaffolds, kept, invalid = [], {}, [], []
    values = torch.tensor(table[list(targets)].apply(pd.to_numeric, errors="coerce").to_numpy(), dtype=torch.float)
    for row, (text, parsed) in enumerate(zip(table[smiles], graphs_and_scaffolds(table[smiles]), strict=True)):
        if parsed is None:
            invalid.append(row)
            continue
        graph = molecule_data(parsed[0], text)
        graph.y = values[row]
        graphs.append(graph)
        scaffolds[text] = parsed[1]
        kept.append(row)
    if invalid:
        more = f" and {len(invalid) - 10} more" if len(invalid) > 10 else ""
        lines = ", ".join(str(row + 2) for row in invalid[:10]) + more
        if not skip_invalid:
            raise PartOptionError(f"{file}: {len(invalid)} SMILES that RDKit cannot parse, on lines {lines} (line 1 is "
                                  f"the header); fix them, or set data.options.skip_invalid: true to skip those rows.")
        log.warning("%s: skipped %d unparsable SMILES (lines %s)", file, len(invalid), lines)
    labels = table[split_column].iloc[kept].tolist() if split == "column" else None
    parts = split_rows(split, len(graphs), fractions, split_seed, [graph.smiles for graph in graphs], labels,
                       split_column, scaffold=scaffolds.__getitem__)
    return graph_dataset(graphs, parts, task, metric, file.parent, molecules=True)
