"""OGB ogbg-code2 (Hu et al. 2020): predict a Python method's name, as a sequence of subtokens, from
its abstract syntax tree; official project split, F1 by ``ogb``'s Evaluator.

Follows OGB's code2 example (and GraphGPS): the vocabulary is the 5,000 most frequent training
subtokens plus ``__UNK__`` and ``__EOS__``; the model predicts 5 positions. Each graph gets
- ``x [N, 3]``: node type, attribute, depth (capped at 20) for the ``ast`` encoder;
- ``edge_index`` / ``edge_attr [E, 2]``: OGB's ``augment_edge`` (AST edges and next-token edges
  between consecutive attributed nodes, each also reversed; attribute = (kind, reversed));
- ``directed_edge_index``: the same edges one way only (parent -> child, token -> next token), what
  a directed encoding (``maglap`` with ``edges: directed_edge_index``) should see;
- ``y [1, L]``: the method name's subtokens as ids, padded with -1. Ids below 5,000 are the
  prediction vocabulary; rarer and unseen subtokens get ids from 5,002 on, so the Evaluator
  scores against the true names, never against their ``__UNK__`` stand-ins.

Layout under the data root (OGB's): ``ogbg_code2/raw/*.csv.gz``, ``ogbg_code2/split/project/``,
``ogbg_code2/RELEASE_v1.txt``.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

import torch
from ogb.graphproppred import PygGraphPropPredDataset
from torch import Tensor
from torch_geometric.data import Data

from graphformers.data.base import RawFile, SplitDataset
from graphformers.data.raw_files import ensure_via_library
from graphformers.io import pyg_safe_globals
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo

NAME = "ogbg-code2"
VOCABULARY = 5000
UNKNOWN, END = VOCABULARY, VOCABULARY + 1
SEQUENCE_LENGTH = 5
MAX_DEPTH = 20
INFO = TaskInfo(level="graph", task="sequence", num_outputs=VOCABULARY + 2, sequence_length=SEQUENCE_LENGTH,
                metric="f1", evaluator=NAME, node_encoder="ast", node_in=3, edge_encoder="ast_edge", edge_in=2)
_ZIP = "http://snap.stanford.edu/ogb/data/graphproppred/code2.zip"
_TABLES = ("edge", "node-feat", "graph-label", "num-node-list", "num-edge-list", "node_is_attributed",
           "node_dfs_order", "node_depth")
RAW_FILES = tuple([RawFile(f"ogbg_code2/raw/{table}.csv.gz", source=f"{_ZIP} (inside: raw/{table}.csv.gz)")
                   for table in _TABLES]
                  + [RawFile(f"ogbg_code2/split/project/{part}.csv.gz", source=f"{_ZIP} (inside: split/project/)")
                     for part in ("train", "valid", "test")]
                  + [RawFile("ogbg_code2/RELEASE_v1.txt", source=f"{_ZIP} (inside)")])


def subtoken_ids(train_names: Sequence[list[str]], all_names: Sequence[list[str]]) -> dict[str, int]:
    """Ids of every subtoken: the ``VOCABULARY`` most frequent in training first (ties in order of
    first appearance, as OGB's ``get_vocab_mapping``), then ``UNKNOWN`` and ``END`` reserved, then the
    rest in order of first appearance."""
    frequent = [token for token, _ in Counter(chain.from_iterable(train_names)).most_common(VOCABULARY)]
    ids = {token: i for i, token in enumerate(frequent)}
    for token in chain.from_iterable(all_names):
        if token not in ids:
            ids[token] = END + 1 + len(ids) - len(frequent)
    return ids


def augmented_edges(ast_edges: Tensor, is_attributed: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(edge_index, edge_attr, directed_edge_index)`` of OGB's ``augment_edge``: AST edges, their
    reverses, next-token edges between consecutive attributed nodes (nodes are in DFS order), their
    reverses; ``edge_attr [E, 2]`` = (0 AST / 1 next-token, 0 forward / 1 reversed)."""
    attributed = torch.nonzero(is_attributed.view(-1)).view(-1)
    next_token = torch.stack([attributed[:-1], attributed[1:]])
    parts = [ast_edges, ast_edges.flip(0), next_token, next_token.flip(0)]
    kinds = [(0, 0), (0, 1), (1, 0), (1, 1)]
    edge_attr = torch.cat([torch.tensor(kind).expand(part.size(1), 2) for part, kind in zip(parts, kinds, strict=True)])
    return torch.cat(parts, dim=1), edge_attr, torch.cat([ast_edges, next_token], dim=1)


@register_dataset(NAME, INFO, RAW_FILES)
def ogbg_code2(root: str, download: bool = True) -> SplitDataset:
    """OGB ogbg-code2: 452,741 Python method ASTs, method-name subtokens (sequence, F1, project split).

    Args:
        root (str): the data root.
        download (bool, optional): fetch missing raw files. (default: :obj:`True`)
    """
    directory = Path(root) / "ogbg_code2"
    with pyg_safe_globals():
        ensure_via_library(NAME, Path(root), directory, lambda: PygGraphPropPredDataset(NAME, root), download)
        dataset = PygGraphPropPredDataset(NAME, root)
        split = dataset.get_idx_split()
    graphs = list(dataset)
    ids = subtoken_ids([graphs[i].y for i in split["train"].tolist()], [graph.y for graph in graphs])
    longest = max(len(graph.y) for graph in graphs)

    def converted(graph: Data) -> Data:
        edge_index, edge_attr, directed = augmented_edges(graph.edge_index, graph.node_is_attributed)
        names = torch.full((1, longest), -1, dtype=torch.long)
        names[0, : len(graph.y)] = torch.tensor([ids[token] for token in graph.y], dtype=torch.long)
        depth = graph.node_depth.view(-1, 1).clamp(max=MAX_DEPTH)
        return Data(x=torch.cat([graph.x, depth], dim=1), edge_index=edge_index, edge_attr=edge_attr,
                    directed_edge_index=directed, y=names, num_nodes=graph.num_nodes)

    train, val, test = ([converted(graphs[i]) for i in split[part].tolist()] for part in ("train", "valid", "test"))
    return SplitDataset(train, val, test, INFO, directory=directory)
