"""Link prediction (PCQM-Contact): LRGB's MRR, negative sampling and the loader on format-true files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from ogb.utils import smiles2graph
from torch_geometric.data import Batch, Data
from torch_geometric.utils import to_undirected

from graphformers.data.pcqm_contact import pcqm_contact
from graphformers.link_prediction import reciprocal_ranks_per_graph, training_pairs
from graphformers.recipe import load_recipe
from graphformers.training.runner import run

REPO = Path(__file__).resolve().parent.parent
MOLECULES = ["CCOC(=O)c1ccccc1N", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "OC1=CC=CC=C1C(=O)OCCN", "CCN(CC)CCNC(=O)c1ccc(N)cc1",
             "COc1ccc2[nH]cc(CCNC(C)=O)c2c1", "CC1=C(C(=O)N(N1C)c1ccccc1)N(C)C"]


def _contact_graph(smiles: str, rng: np.random.Generator, contacts: int = 4) -> Data:
    molecule = smiles2graph(smiles)
    n = molecule["num_nodes"]
    pairs = torch.from_numpy(np.stack([rng.choice(n, contacts), rng.choice(n, contacts)]))
    pairs = to_undirected(pairs[:, pairs[0] != pairs[1]])
    return Data(x=torch.from_numpy(molecule["node_feat"]), edge_attr=torch.from_numpy(molecule["edge_feat"]),
                edge_index=torch.from_numpy(molecule["edge_index"]), edge_label_index=pairs,
                edge_label=torch.ones(pairs.size(1), dtype=torch.long), num_nodes=n)


def _lrgb_mrr(embeddings: torch.Tensor, batch: Batch, filtered: bool) -> list[float]:
    """LRGB's per-graph MRR (vijaydwivedi75/lrgb, graphgps/head/inductive_edge.py), restated:
    rank of each positive by argsort over [positive, all other columns of its row]."""
    values = []
    for graph, h in zip(batch.to_data_list(), embeddings.split(batch.ptr.diff().tolist()), strict=True):
        scores = h @ h.T
        source, target = graph.edge_label_index[:, graph.edge_label == 1]
        positive = scores[source, target]
        if filtered:
            masked = scores.clone()
            masked[source, target] = -float("inf")
            negatives = masked[source]
        else:
            keep = torch.ones(source.numel(), graph.num_nodes, dtype=torch.bool)
            keep[torch.arange(source.numel()), target] = False
            negatives = scores[source][keep].view(source.numel(), -1)
        ranked = torch.argsort(torch.cat([positive.view(-1, 1), negatives], dim=1), dim=1, descending=True)
        ranks = torch.nonzero(ranked == 0)[:, 1] + 1
        values.append(float((1.0 / ranks.float()).mean()))
    return values


@pytest.mark.parametrize("filtered", [False, True])
def test_mrr_equals_lrgbs_definition_on_random_embeddings(filtered):
    rng = np.random.default_rng(0)
    batch = Batch.from_data_list([_contact_graph(smiles, rng) for smiles in MOLECULES])
    embeddings = torch.randn(batch.num_nodes, 16, generator=torch.Generator().manual_seed(1))
    ours = reciprocal_ranks_per_graph(embeddings, batch, filtered=filtered)
    torch.testing.assert_close(ours, torch.tensor(_lrgb_mrr(embeddings, batch, filtered)), atol=1e-6, rtol=0)


def test_filtering_ignores_other_positive_partners_and_ties_share_their_ranks():
    # node 0's partners: 1 (score 3) and 2 (score 2); node 3 scores 2 as well (a tie with node 2)
    embeddings = torch.tensor([[1.0, 0.0], [3.0, 0.0], [2.0, 0.0], [2.0, 0.0], [-1.0, 0.0]])
    graph = Data(edge_index=torch.empty(2, 0, dtype=torch.long), edge_label_index=torch.tensor([[0, 0], [1, 2]]),
                 edge_label=torch.tensor([1, 1]), num_nodes=5)
    batch = Batch.from_data_list([graph])
    # raw: pair (0,1) rank 1; pair (0,2) is behind 1, tied with 3 -> rank 2.5
    raw = reciprocal_ranks_per_graph(embeddings, batch)
    torch.testing.assert_close(raw, torch.tensor([(1 / 1 + 1 / 2.5) / 2]))
    # filtered: (0,2) no longer competes with partner 1 -> rank 1.5
    filtered = reciprocal_ranks_per_graph(embeddings, batch, filtered=True)
    torch.testing.assert_close(filtered, torch.tensor([(1 / 1 + 1 / 1.5) / 2]))


def test_training_pairs_add_two_negatives_per_positive_inside_each_graph():
    rng = np.random.default_rng(1)
    batch = Batch.from_data_list([_contact_graph(smiles, rng) for smiles in MOLECULES])
    pairs, labels = training_pairs(batch)
    positives = int(batch.edge_label.sum())
    assert int(labels.sum()) == positives and 1.5 * positives <= int((labels == 0).sum()) <= 2 * positives
    negatives = pairs[:, labels == 0]
    assert torch.equal(batch.batch[negatives[0]], batch.batch[negatives[1]])
    positive_set = set(map(tuple, batch.edge_label_index.T.tolist()))
    assert not positive_set & set(map(tuple, negatives.T.tolist()))


def _write_pcqm_contact(root: Path, counts: dict[str, int]) -> None:
    """PyG/LRGB's raw format: ``raw/<split>.pt`` = list of (x, edge_attr, edge_index, edge_label_index, edge_label)."""
    rng = np.random.default_rng(2)
    raw = root / "pcqm-contact" / "raw"
    raw.mkdir(parents=True)
    for split, count in counts.items():
        graphs = [_contact_graph(MOLECULES[i % len(MOLECULES)], rng) for i in range(count)]
        torch.save([(g.x, g.edge_attr, g.edge_index, g.edge_label_index, g.edge_label) for g in graphs],
                   raw / f"{split}.pt")


def test_pcqm_contact_loads_the_official_raw_format(tmp_path):
    _write_pcqm_contact(tmp_path, {"train": 8, "val": 3, "test": 4})
    splits = pcqm_contact(str(tmp_path), download=False)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (8, 3, 4)
    graph = splits.train[0]
    assert graph.x.shape[1] == 9 and graph.edge_attr.shape[1] == 3
    assert graph.edge_label_index.shape[0] == 2 and graph.edge_label.numel() == graph.edge_label_index.size(1)
    assert splits.info.level == "link" and splits.info.metric == "mrr"
    assert pcqm_contact(str(tmp_path), download=False, filtered_mrr=True).info.metric == "mrr_filtered"


@pytest.mark.parametrize("recipe", ["pcqm-contact-gps.yaml", "pcqm-contact-exphormer.yaml"])
def test_pcqm_contact_recipes_train_on_format_true_files(tmp_path, recipe):
    _write_pcqm_contact(tmp_path, {"train": 24, "val": 6, "test": 6})
    overrides = [f"data.root={tmp_path}", "data.batch_size=8", "train.max_epochs=2", "train.warmup_epochs=0",
                 "train.progress_bar=false", f"train.out_dir={tmp_path / 'runs'}"]
    result = run(load_recipe(REPO / "recipes" / recipe, overrides))
    assert result.metric == "mrr" and 0.0 < result.test_value <= 1.0
