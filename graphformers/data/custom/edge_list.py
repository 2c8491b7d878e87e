"""``edge-list``: one graph from an edge-list file and a node table (an id column, feature columns,
a label column and, for ``split: column``, a train / val / test column): node-level tasks."""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, to_undirected

from graphformers.data.base import SplitDataset
from graphformers.data.custom.assemble import masks_of, node_dataset, split_rows
from graphformers.data.custom.smiles_csv import read_table, resolve
from graphformers.data.scaffold_split import Fractions
from graphformers.errors import PartOptionError
from graphformers.registry import register_dataset


@register_dataset("edge-list")
def edge_list(root: str, edges: str, nodes: str, id_column: str = "id", label: str = "label",
              features: list[str] | None = None, source: str | None = None, target: str | None = None,
              directed: bool = False, split: Literal["column", "random"] = "column", split_column: str = "split",
              fractions: Fractions = (0.5, 0.25, 0.25), split_seed: int = 0, task: str | None = None,
              metric: str | None = None) -> SplitDataset:
    """One graph: ``{edges: cora_edges.csv, nodes: cora_nodes.csv}``.

    The edge file (CSV, or TSV by its suffix, with a header) holds one edge per row; the node table one
    node per row, identified by ``id_column`` (any values: edges name nodes by them). Nodes with an
    empty label are in no split. The graph is made undirected unless ``directed``.

    Args:
        root (str): the data root.
        edges (str): the edge file, absolute or under the data root.
        nodes (str): the node table, absolute or under the data root.
        id_column (str, optional): the node table's id column. (default: :obj:`"id"`)
        label (str, optional): the node table's label column. (default: :obj:`"label"`)
        features (list of str, optional): feature columns (None: every column but id, label and split). (default:
            :obj:`None`)
        source (str, optional): the edge file's source column (None: its first column). (default: :obj:`None`)
        target (str, optional): the edge file's target column (None: its second column). (default: :obj:`None`)
        directed (bool, optional): keep edges one-way as listed. (default: :obj:`False`)
        split (str, optional): ``column`` (``split_column``'s train / val / test) or ``random``. (default:
            :obj:`"column"`)
        split_column (str, optional): the node table's split column. (default: :obj:`"split"`)
        fractions (three floats, optional): train, val and test shares of the labelled nodes for ``random``. (default:
            :obj:`(0.5, 0.25, 0.25)`)
        split_seed (int, optional): seed of the random split. (default: :obj:`0`)
        task (str, optional): ``binary``, ``multiclass``, ``multilabel`` or ``regression`` (None: inferred). (default:
            :obj:`None`)
        metric (str, optional): the metric (None: the task's default). (default: :obj:`None`)
    """
    node_file, edge_file = resolve(root, nodes), resolve(root, edges)
    table = read_table(node_file, [id_column,
                                   label] + list(features or []) + ([split_column] if split == "column" else []))
    if table[id_column].duplicated().any():
        repeated = table[id_column][table[id_column].duplicated()].tolist()[:5]
        raise PartOptionError(f"{node_file}: node ids repeat in column {id_column!r} (e.g. {repeated}); "
                              f"each node once.")
    columns = features or [c for c in table.columns if c not in (id_column, label, split_column)]
    position = pd.Series(range(len(table)), index=table[id_column])
    edge_table = read_table(edge_file, [c for c in (source, target) if c is not None])
    ends = [source or edge_table.columns[0], target or edge_table.columns[1]]
    mapped = [edge_table[end].map(position) for end in ends]
    unknown = mapped[0].isna() | mapped[1].isna()
    if unknown.any():
        rows = unknown.to_numpy().nonzero()[0]
        examples = [edge_table[end][rows[0]] for end in ends]
        raise PartOptionError(f"{edge_file}: {len(rows)} edges name nodes that are not in {node_file}'s column "
                              f"{id_column!r} (first on line {rows[0] + 2}: {examples[0]!r} -> {examples[1]!r}); add "
                              f"those nodes to the node table or drop the edges.")
    edge_index = torch.from_numpy(np.stack([mapped[0].to_numpy(dtype="int64"), mapped[1].to_numpy(dtype="int64")]))
    if directed:
        edge_index = coalesce(edge_index, num_nodes=len(table))
    else:
        edge_index = to_undirected(edge_index, num_nodes=len(table))
    labels = pd.to_numeric(table[label], errors="coerce")
    whole = (labels.dropna() == labels.dropna().round()).all()
    targets = labels.fillna(-1).to_numpy(dtype="int64") if whole else labels.to_numpy(dtype="float32")
    graph = Data(x=torch.tensor(table[columns].to_numpy(dtype="float32")), edge_index=edge_index,
                 y=torch.tensor(targets), num_nodes=len(table))
    labelled = torch.tensor(labels.notna().to_numpy())
    if split == "column":
        masks = masks_of(split_rows("column", len(table), fractions, split_seed,
                                    labels=table[split_column].tolist(), column=split_column), len(table))
    else:
        chosen = labelled.nonzero().view(-1)
        parts = split_rows("random", chosen.numel(), fractions, split_seed)
        masks = masks_of(tuple(chosen[part] for part in parts), len(table))  # type: ignore[arg-type]
    return node_dataset(graph, tuple(mask & labelled for mask in masks), task, metric,
                        node_file.parent)  # type: ignore[arg-type]
