"""The one-graph node datasets on their real files: Platonov et al.'s heterophilous graphs (10
official splits each) and the Planetoid public splits; the counts are the published ones."""
from __future__ import annotations

import pytest
import torch
from torch_geometric.datasets import HeterophilousGraphDataset
from torch_geometric.utils import is_undirected

from graphformers.errors import PartOptionError
from graphformers.registry import DATASETS

# nodes, undirected edges, features, classes (Platonov et al. 2023, Table 1 / the data README;
# Yang et al. 2016 and PyG's Planetoid docs for Cora and CiteSeer)
PUBLISHED = {
    "minesweeper": (10_000, 39_402, 7, 2),
    "tolokers": (11_758, 519_000, 10, 2),
    "chameleon-filtered": (890, 8_854, 2_325, 5),
    "squirrel-filtered": (2_223, 46_998, 2_089, 5),
    "cora": (2_708, 5_278, 1_433, 7),
    "citeseer": (3_327, 4_552, 3_703, 6),
}


def _masks(splits):
    return tuple(part[0].target_mask for part in (splits.train, splits.val, splits.test))


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_sizes_undirected_edges_and_disjoint_splits(name, node_data_root):
    nodes, edges, features, classes = PUBLISHED[name]
    spec = DATASETS.get(name)
    for split in range(spec.num_splits):
        splits = spec.load(node_data_root, {"split": split} if spec.num_splits > 1 else {})
        graph = splits.train[0]
        assert graph.num_nodes == nodes and graph.edge_index.size(1) == 2 * edges
        assert is_undirected(graph.edge_index, num_nodes=nodes)
        assert graph.x.shape == (nodes, features) and int(graph.y.max()) + 1 == classes
        train, val, test = _masks(splits)
        assert not (train & val).any() and not (train & test).any() and not (val & test).any()
        assert splits.val[0].x is graph.x and splits.test[0].edge_index is graph.edge_index  # one graph, shared
        if name in ("minesweeper", "tolokers"):  # 50% / 25% / 25% of the nodes (Platonov et al., Section 4)
            assert abs(int(train.sum()) - nodes / 2) <= 1 and abs(int(val.sum()) - nodes / 4) <= 1
            assert int(train.sum() + val.sum() + test.sum()) == nodes
    assert spec.num_splits == (1 if name in ("cora", "citeseer") else 10)


def test_the_ten_splits_differ_and_split_is_checked(node_data_root):
    spec = DATASETS.get("minesweeper")
    first, second = (_masks(spec.load(node_data_root, {"split": k}))[0] for k in (0, 1))
    assert not torch.equal(first, second)
    with pytest.raises(PartOptionError, match="official splits 0 to 9, not 10"):
        spec.load(node_data_root, {"split": 10})


@pytest.mark.parametrize("name", ["minesweeper", "tolokers"])
def test_minesweeper_and_tolokers_equal_pygs_heterophilous_graph_dataset(name, node_data_root, tmp_path):
    ours = DATASETS.get(name).load(node_data_root, {"split": 4})
    (tmp_path / name / "raw").mkdir(parents=True)
    (tmp_path / name / "raw" / f"{name}.npz").write_bytes((node_data_root / name / "raw" / f"{name}.npz").read_bytes())
    pyg = HeterophilousGraphDataset(str(tmp_path), name)[0]
    graph = ours.train[0]
    assert torch.equal(graph.edge_index, pyg.edge_index) and torch.equal(graph.x, pyg.x) and torch.equal(graph.y, pyg.y)
    for mine, theirs in zip(_masks(ours), (pyg.train_mask, pyg.val_mask, pyg.test_mask), strict=True):
        assert torch.equal(mine, theirs[:, 4])


@pytest.mark.parametrize("name, train", [("cora", 140), ("citeseer", 120)])
def test_planetoid_public_split_and_row_normalised_features(name, train, node_data_root):
    splits = DATASETS.get(name).load(node_data_root, {})
    masks = _masks(splits)
    assert [int(mask.sum()) for mask in masks] == [train, 500, 1000]
    labelled = splits.train[0].y[masks[0]]
    assert torch.equal(torch.bincount(labelled), torch.full((splits.info.num_outputs,), 20))  # 20 per class
    sums = splits.train[0].x.sum(dim=1)
    assert torch.allclose(sums[sums > 0], torch.ones(int((sums > 0).sum())))
    raw = DATASETS.get(name).load(node_data_root, {"normalize_features": False}).train[0].x
    assert set(raw.unique().tolist()) == {0.0, 1.0}  # binary bag of words as stored
