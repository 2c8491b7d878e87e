"""ogbg-code2: the loader on files in OGB's raw format, the subtoken targets, the official F1 and
the magnetic Laplacian on the one-way AST edges."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from ogb.graphproppred import Evaluator
from ogb_files import write_ogb_folder
from torch_geometric.data import Data

from graphformers.data.ogb_code2 import (
    END,
    UNKNOWN,
    VOCABULARY,
    augmented_edges,
    ogbg_code2,
    subtoken_ids,
)
from graphformers.encoders.magnetic_laplacian import MagneticLaplacianEigenvectors
from graphformers.metrics import SubtokenF1
from graphformers.recipe import load_recipe
from graphformers.task import sequence_targets
from graphformers.training.runner import run

REPO = Path(__file__).resolve().parent.parent
TOKENS = ["get", "set", "user", "name", "value", "to", "string", "init", "parse", "file"]


def _write_code2(root: Path, num_graphs: int, rng: np.random.Generator) -> dict:
    """ASTs in ogbg-code2's raw format: nodes in DFS order with one-way parent -> child edges,
    ``node-feat`` = (type, attribute), ``node_is_attributed``, ``node_dfs_order``, ``node_depth``,
    and one space-separated method name per graph in ``graph-label``."""
    tables: dict[str, list] = {name: [] for name in ("edge", "node-feat", "graph-label", "num-node-list",
                                                     "num-edge-list", "node_is_attributed", "node_dfs_order",
                                                     "node_depth")}
    names = []
    for _ in range(num_graphs):
        n = int(rng.integers(4, 12))
        parents = [int(rng.integers(0, child)) for child in range(1, n)]
        depth = [0]
        for parent in parents:
            depth.append(depth[parent] + 1)
        tables["edge"] += [[parent, child] for child, parent in enumerate(parents, start=1)]
        tables["node-feat"] += [[int(rng.integers(0, 98)), int(rng.integers(0, 10030))] for _ in range(n)]
        tables["node_is_attributed"] += [[int(rng.random() < 0.5)] for _ in range(n)]
        tables["node_dfs_order"] += [[i] for i in range(n)]
        tables["node_depth"] += [[d] for d in depth]
        tables["num-node-list"].append([n])
        tables["num-edge-list"].append([n - 1])
        name = list(rng.choice(TOKENS, size=int(rng.integers(1, 8))))
        names.append(name)
        tables["graph-label"].append([" ".join(name)])
    parts = write_ogb_folder(root / "ogbg_code2", tables, num_graphs, "project", rng)
    return {"parts": parts, "names": names, "edges": tables["num-edge-list"]}


@pytest.fixture(scope="module")
def code2(tmp_path_factory):
    root = tmp_path_factory.mktemp("code2")
    written = _write_code2(root, 40, np.random.default_rng(0))
    return root, written, ogbg_code2(str(root), download=False)


def test_code2_loads_the_official_raw_format_with_augmented_edges(code2):
    _, written, splits = code2
    assert [len(splits.train), len(splits.val), len(splits.test)] == [len(p) for p in written["parts"].values()]
    for index, graph in zip(sorted(written["parts"]["train"].tolist()), splits.train, strict=True):
        ast_edges = written["edges"][index][0]
        assert graph.x.shape == (graph.num_nodes, 3)
        assert graph.directed_edge_index.size(1) * 2 == graph.edge_index.size(1) >= 2 * ast_edges
        assert graph.edge_attr.shape == (graph.edge_index.size(1), 2)
        assert torch.equal(graph.edge_index[:, graph.edge_attr[:, 1] == 0], graph.directed_edge_index)
        assert len([i for i in graph.y[0].tolist() if i >= 0]) == len(written["names"][index])
    assert splits.info.task == "sequence" and splits.info.evaluator == "ogbg-code2"


def test_vocabulary_ranks_training_subtokens_by_frequency_and_keeps_unseen_ones_out():
    train = [["get", "name"], ["get", "value"], ["set", "name"], ["get"]]
    ids = subtoken_ids(train, train + [["parse", "get"]])
    assert [ids["get"], ids["name"], ids["value"], ids["set"]] == [0, 1, 2, 3]  # ties in first-seen order
    assert ids["parse"] == END + 1


def test_sequence_targets_truncate_pad_and_map_rare_subtokens_to_unknown():
    vocabulary = VOCABULARY + 2
    names = torch.tensor([[3, 7, -1, -1, -1, -1, -1], [1, 2, 3, 4, 5, 6, 8000], [9000, -1, -1, -1, -1, -1, -1]])
    expected = torch.tensor([[3, 7, END, END, END], [1, 2, 3, 4, 5], [UNKNOWN, END, END, END, END]])
    assert torch.equal(sequence_targets(names, vocabulary, 5), expected)


def test_subtoken_f1_equals_ogbs_evaluator_on_the_decoded_strings(code2):
    _, _, splits = code2
    vocabulary = VOCABULARY + 2
    names = torch.cat([graph.y for graph in splits.test])
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(names.size(0), 5, vocabulary, generator=generator)
    logits[:, :, :12] += 12.0  # predict the few real subtokens, __UNK__ and __EOS__ often
    logits[:, :, UNKNOWN] += 11.0
    logits[:, :, END] += 11.5
    metric = SubtokenF1(vocabulary)
    metric.update(logits.view(names.size(0), -1), names)
    id_to_token = {}
    for graph, name in zip(splits.test, _names_of(code2, "test"), strict=True):
        id_to_token.update(zip(graph.y[0][graph.y[0] >= 0].tolist(), name, strict=True))
    for graph, name in zip(splits.train, _names_of(code2, "train"), strict=True):
        id_to_token.update(zip(graph.y[0][graph.y[0] >= 0].tolist(), name, strict=True))
    predicted = []
    for row in logits.argmax(dim=-1).tolist():
        tokens = []
        for i in row:
            if i == END:
                break
            tokens.append("__UNK__" if i == UNKNOWN else id_to_token.get(i, f"unused-{i}"))
        predicted.append(tokens)
    official = Evaluator("ogbg-code2").eval({"seq_ref": _names_of(code2, "test"), "seq_pred": predicted})["F1"]
    assert 0.0 < official < 1.0
    assert float(metric.compute()) == pytest.approx(official, abs=1e-6)  # float32 result


def _names_of(code2, part: str) -> list[list[str]]:
    _, written, _ = code2
    key = {"train": "train", "test": "test", "val": "valid"}[part]
    return [written["names"][i] for i in sorted(written["parts"][key].tolist())]


def test_maglap_on_directed_edges_ignores_the_reversed_message_passing_edges():
    ast = torch.tensor([[0, 0, 1, 1], [1, 2, 3, 4]])
    attributed = torch.tensor([0, 1, 1, 0, 1])
    edge_index, _, directed = augmented_edges(ast, attributed)
    encoding = MagneticLaplacianEigenvectors(k=3, q=0.2, edges="directed_edge_index")
    graph = encoding(Data(edge_index=edge_index, directed_edge_index=directed, num_nodes=5))
    reference = MagneticLaplacianEigenvectors(k=3, q=0.2)(Data(edge_index=directed, num_nodes=5))
    symmetric = MagneticLaplacianEigenvectors(k=3, q=0.2)(Data(edge_index=edge_index, num_nodes=5))
    torch.testing.assert_close(graph.maglap_imag, reference.maglap_imag)
    assert graph.maglap_imag.abs().max() > 0.05 and symmetric.maglap_imag.abs().max() < 1e-6


@pytest.mark.parametrize("recipe", ["ogbg-code2-gps.yaml", "ogbg-code2-maglap.yaml"])
def test_code2_recipes_train_on_format_true_files(code2, tmp_path, recipe):
    root, _, _ = code2
    overrides = [f"data.root={root}", "model.hidden=32", "model.layers=2", "data.batch_size=8",
                 "train.max_epochs=2", "train.warmup_epochs=0", "train.progress_bar=false",
                 f"train.out_dir={tmp_path / 'runs'}"]
    if "maglap" in recipe:
        overrides.append("model.encoders=[{name: maglap, k: 4, q: 0.1, relative: true, dim: 8, embedding: signnet, "
                         "edges: directed_edge_index}]")
    result = run(load_recipe(REPO / "recipes" / recipe, overrides))
    assert result.metric == "f1" and 0.0 <= result.test_value <= 1.0
