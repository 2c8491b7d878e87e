"""What ``python -m graphformers.predict`` reads (a SMILES CSV, a graphs file or folder, a split of
the checkpoint's own dataset) and how it writes predictions as a CSV table."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from torch import Tensor
from torch_geometric.data import Data

from graphformers.data.custom.graphs_file import load_graphs
from graphformers.data.custom.smiles_csv import molecule, read_table
from graphformers.data.datamodule import load_split_dataset
from graphformers.prediction.predictor import PredictionInputError, Predictor
from graphformers.task import TASKS, TaskInfo

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


@dataclass
class PredictionInput:
    """Graphs to predict for, and a label column per graph."""

    graphs: list[Data]
    labels: dict[str, list]
    """Columns that identify each input graph in the output (``index``; ``smiles`` for molecules)."""


def read_input(source: str, predictor: Predictor, smiles_column: str | None, skip_invalid: bool) -> PredictionInput:
    """``source``: ``train`` / ``val`` / ``test`` (that split of the checkpoint's dataset), a ``.csv`` /
    ``.tsv`` of SMILES, or a ``.pt`` file / folder of saved ``Data``.

    Args:
        source (str): the input named on the command line.
        predictor (Predictor): the checkpoint's predictor (its recipe names the dataset and SMILES column).
        smiles_column (str, optional): the CSV's SMILES column (default: the recipe's, else ``smiles``).
        skip_invalid (bool): skip unparsable SMILES instead of refusing the file.
    """
    info = predictor.info
    if source in SPLITS:
        graphs = list(getattr(load_split_dataset(predictor.recipe.data), source))
        return PredictionInput(graphs, {"index": list(range(len(graphs)))})
    path = Path(source)
    if not path.exists():
        raise PredictionInputError(f"input {source!r}: no such file or folder, and not a split (train, val, test).")
    if path.suffix in (".csv", ".tsv", ".tab"):
        return _molecules(path, info, smiles_column or predictor.recipe.data.options.get("smiles", "smiles"),
                          skip_invalid)
    files = sorted(path.glob("*.pt")) if path.is_dir() else [path]
    graphs = [graph for file in files for graph in load_graphs(file)]
    return PredictionInput(graphs, {"index": list(range(len(graphs)))})


def _molecules(path: Path, info: TaskInfo, column: str, skip_invalid: bool) -> PredictionInput:
    if info.node_encoder != "atom":
        raise PredictionInputError(f"{path}: a SMILES file gives molecules with OGB's atom features, but this "
                                   f"checkpoint's model reads {info.node_encoder!r} node features; give a graphs "
                                   f"file (.pt) instead.")
    table = read_table(path, [column])
    graphs: list[Data] = []
    rows, invalid = [], []
    for row, text in enumerate(table[column]):
        graph = molecule(text)
        if graph is None:
            invalid.append(row + 2)
            continue
        graphs.append(graph)
        rows.append(row)
    if invalid and not skip_invalid:
        raise PredictionInputError(f"{path}: {len(invalid)} SMILES that RDKit cannot parse, on lines "
                                   f"{', '.join(map(str, invalid[:10]))}{' ...' if len(invalid) > 10 else ''}; fix "
                                   f"them, or pass --skip-invalid to skip those rows.")
    if invalid:
        log.warning("%s: skipped %d unparsable SMILES", path, len(invalid))
    return PredictionInput(graphs, {"row": rows, "smiles": [g.smiles for g in graphs]})


def output_names(predictor: Predictor) -> list[str]:
    """One column name per output: the recipe's target names where it lists them (``data.options.targets``)."""
    info = predictor.info
    targets = predictor.recipe.data.options.get("targets")
    names = list(targets) if isinstance(targets, list) and len(targets) == info.num_outputs else \
        [f"output_{k}" for k in range(info.num_outputs)]
    return TASKS[info.task].columns(info, names)


def prediction_table(predictor: Predictor, given: PredictionInput, predictions: Tensor) -> pd.DataFrame:
    """One row per graph (graph level) or per predicted node (node level): the input's labels, then the predictions."""
    values = TASKS[predictor.info.task].tabulated(predictions)
    columns = pd.DataFrame(values.reshape(values.size(0), -1).numpy(), columns=output_names(predictor))
    if predictor.info.level == "graph":
        return pd.concat([pd.DataFrame(given.labels), columns], axis=1)
    nodes = []
    for index, graph in enumerate(given.graphs):
        chosen = graph.target_mask.nonzero().view(-1) if "target_mask" in graph else range(graph.num_nodes)
        nodes.extend((index, int(node)) for node in chosen)
    return pd.concat([pd.DataFrame(nodes, columns=["graph", "node"]), columns], axis=1)
