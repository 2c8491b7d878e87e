"""Datasets given without code (``pyg``, ``smiles-csv``, ``graphs-file``, ``edge-list``) on the real
files in ``../shared/data``: published sizes, split rules, inferred tasks, and bad input refused."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import epoch_values
from torch_geometric.data import Data
from torch_geometric.datasets import Planetoid, TUDataset
from torch_geometric.utils import coalesce

from graphformers.data.custom.inference import infer_task, pick_metric
from graphformers.data.custom.splits import random_split
from graphformers.data.datamodule import load_split_dataset
from graphformers.data.scaffold_split import scaffold_split
from graphformers.errors import PartOptionError
from graphformers.recipe import DataConfig, RecipeError, load_recipe
from graphformers.training.runner import run

BBBP = "MoleculeNet/bbbp/raw/BBBP.csv"
ESOL = "MoleculeNet/esol/raw/delaney-processed.csv"
ESOL_TARGET = "measured log solubility in mols per litre"


@pytest.fixture(scope="module")
def custom_root(shared_data, tmp_path_factory) -> Path:
    """A data root holding ENZYMES and Cora in PyG's layout, and the two MoleculeNet CSVs."""
    root = tmp_path_factory.mktemp("custom-root")
    shutil.copytree(shared_data / "TUDataset" / "ENZYMES", root / "TUDataset" / "ENZYMES")
    shutil.copytree(shared_data / "Planetoid" / "Cora", root / "Planetoid" / "Cora")
    for path in (BBBP, ESOL):
        (root / path).parent.mkdir(parents=True)
        shutil.copy(shared_data / path, root / path)
    return root


def load(root: Path, dataset: str, **options):
    return load_split_dataset(DataConfig(name=dataset, root=str(root), options=options))


def test_any_pyg_class_loads_enzymes_with_a_seeded_random_split(custom_root):
    splits = load(custom_root, "pyg", **{"class": "TUDataset", "name": "ENZYMES", "split": "random"})
    reference = TUDataset(str(custom_root / "TUDataset"), "ENZYMES")
    assert (len(splits.train), len(splits.val), len(splits.test)) == (480, 60, 60)
    info = splits.info
    assert (info.level, info.task, info.num_outputs, info.metric) == ("graph", "multiclass", 6, "accuracy")
    assert (info.node_encoder, info.node_in, info.edge_encoder) == ("linear", 3, None)
    assert sum(graph.num_nodes for part in (splits.train, splits.val, splits.test) for graph in part) == 19_580
    train, val, test = random_split(600, [0.8, 0.1, 0.1], seed=0)
    assert torch.equal(splits.val[5].x,
                       reference[int(val[5])].x) and splits.val[5].y.tolist() == [int(reference[int(val[5])].y)]
    other = load(custom_root, "pyg", **{"class": "TUDataset", "name": "ENZYMES", "split": "random", "split_seed": 1})
    assert [g.num_nodes for g in other.test] != [g.num_nodes for g in splits.test]


def test_pyg_mistakes_are_named_with_the_fix(custom_root):
    with pytest.raises(PartOptionError, match="no dataset class 'TUDatset'. Did you mean 'TUDataset'"):
        load(custom_root, "pyg", **{"class": "TUDatset", "name": "ENZYMES"})
    with pytest.raises(PartOptionError, match="TUDataset takes no argument 'nme'. Did you mean 'name'"):
        load(custom_root, "pyg", **{"class": "TUDataset", "nme": "ENZYMES"})
    with pytest.raises(PartOptionError, match="TUDataset has no split of its own .*split: random"):
        load(custom_root, "pyg", **{"class": "TUDataset", "name": "ENZYMES"})
    with pytest.raises(PartOptionError, match="data.options.class is required"):
        load(custom_root, "pyg", name="ENZYMES")


def test_pyg_node_level_graph_uses_its_own_masks(custom_root):
    splits = load(custom_root, "pyg", **{"class": "Planetoid", "name": "Cora"})
    cora = Planetoid(str(custom_root / "Planetoid"), "Cora")[0]
    assert splits.info.level == "node" and splits.info.num_outputs == 7 and splits.info.node_in == 1433
    assert [int(part[0].target_mask.sum()) for part in (splits.train, splits.val, splits.test)] == [140, 500, 1000]
    assert torch.equal(splits.test[0].target_mask, cora.test_mask)


@pytest.mark.slow
def test_bbbp_scaffold_split_has_ogbs_sizes_and_refuses_unparsable_smiles(custom_root):
    with pytest.raises(PartOptionError,
                       match=r"11 SMILES that RDKit cannot parse, on lines 61, 63, .*skip_invalid: true"):
        load(custom_root, "smiles-csv", path=BBBP, targets=["p_np"])
    splits = load(custom_root, "smiles-csv", path=BBBP, targets=["p_np"], skip_invalid=True)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (1631, 204, 204)  # ogbg-molbbbp's split
    info = splits.info
    assert (info.task, info.num_outputs, info.metric, info.node_encoder, info.edge_encoder) == (
        "binary", 1, "auroc", "atom", "bond")
    from rdkit.Chem.Scaffolds.MurckoScaffold import MurckoScaffoldSmiles

    scaffolds = [{MurckoScaffoldSmiles(smiles=g.smiles, includeChirality=True) for g in part}
                 for part in (splits.train, splits.val, splits.test)]
    assert not scaffolds[0] & scaffolds[2] and not scaffolds[0] & scaffolds[1] and not scaffolds[1] & scaffolds[2]
    table = pd.read_csv(custom_root / BBBP)
    first = splits.train[0]
    assert first.y.tolist() == [[float(table.loc[table.smiles == first.smiles, "p_np"].iloc[0])]]


def test_esol_is_regression_with_the_metric_asked_for(custom_root):
    splits = load(custom_root, "smiles-csv", path=ESOL, targets=[ESOL_TARGET], metric="rmse")
    assert (len(splits.train), len(splits.val), len(splits.test)) == (902, 113, 113)  # ogbg-molesol's split
    assert (splits.info.task, splits.info.metric) == ("regression", "rmse")
    random = load(custom_root, "smiles-csv", path=ESOL, targets=[ESOL_TARGET], split="random",
                  fractions=[0.5, 0.25, 0.25])
    assert (len(random.train), len(random.val), len(random.test)) == (564, 282, 282)


def test_csv_without_the_named_columns_lists_the_columns_it_has(custom_root):
    with pytest.raises(PartOptionError, match=r"has no column 'solubility'; its columns are: Compound ID, .*smiles"):
        load(custom_root, "smiles-csv", path=ESOL, targets=["solubility"])


def test_an_empty_smiles_cell_is_reported_with_the_unparsable_ones_and_the_rest_keep_their_scaffold_split(tmp_path):
    table = pd.DataFrame({"smiles": ["CCO", None, "c1ccccc1C", "not a smiles", "c1ccccc1O", "C1CCCCC1C"],
                          "a": [0, 1, 1, 0, 1, 0]})
    table.to_csv(tmp_path / "mols.csv", index=False)
    with pytest.raises(PartOptionError, match=r"2 SMILES that RDKit cannot parse, on lines 3, 5 \(line 1"):
        load(tmp_path, "smiles-csv", path="mols.csv", targets=["a"])
    splits = load(tmp_path, "smiles-csv", path="mols.csv", targets=["a"], skip_invalid=True,
                  fractions=[0.5, 0.25, 0.25])
    kept = ["CCO", "c1ccccc1C", "c1ccccc1O", "C1CCCCC1C"]
    assert [graph.smiles for graph in splits.train] == ["c1ccccc1C", "c1ccccc1O"]  # benzene's group, the largest
    assert sorted(g.smiles for part in (splits.train, splits.val, splits.test) for g in part) == sorted(kept)


def test_split_column_and_missing_labels_make_a_multilabel_task(tmp_path):
    table = pd.DataFrame({"smiles": ["CCO", "c1ccccc1", "CC(=O)O", "CCN", "CCCC", "C1CC1"],
                          "a": [1, 0, None, 1, 0, 1], "b": [0, 1, 1, None, 0, 0],
                          "part": ["train", "train", "train", "valid", "test", "train"]})
    table.to_csv(tmp_path / "mols.csv", index=False)
    splits = load(tmp_path, "smiles-csv", path="mols.csv", targets=["a", "b"], split="column", split_column="part")
    assert (len(splits.train), len(splits.val), len(splits.test)) == (4, 1, 1)
    assert (splits.info.task, splits.info.num_outputs, splits.info.metric) == ("multilabel", 2, "ap")
    assert torch.isnan(splits.train[2].y).tolist() == [[True, False]]


def test_graphs_file_round_trip_and_entries_that_are_not_graphs(tmp_path):
    graphs = [Data(x=torch.randn(n, 4), edge_index=torch.tensor([[0, 1], [1, 0]]), y=torch.tensor([n * 0.5]))
              for n in range(3, 23)]
    torch.save(graphs, tmp_path / "graphs.pt")
    splits = load(tmp_path, "graphs-file", path="graphs.pt")
    assert (len(splits.train), len(splits.val), len(splits.test)) == (16, 2, 2)
    assert (splits.info.task, splits.info.node_encoder, splits.info.node_in) == ("regression", "linear", 4)
    train, _, _ = random_split(20, [0.8, 0.1, 0.1], seed=0)
    assert torch.equal(splits.train[0].x, graphs[int(train[0])].x)
    folder = tmp_path / "folder"
    folder.mkdir()
    for name, part in (("train", graphs[:12]), ("val", graphs[12:16]), ("test", graphs[16:])):
        torch.save(part, folder / f"{name}.pt")
    own = load(tmp_path, "graphs-file", path="folder", split="own")
    assert (len(own.train), len(own.val), len(own.test)) == (12, 4, 4)
    assert torch.equal(own.test[0].x, graphs[16].x)
    torch.save(graphs[:2] + [{"x": torch.ones(2)}], tmp_path / "bad.pt")
    with pytest.raises(PartOptionError, match="entry 2 is a dict, not a torch_geometric.data.Data"):
        load(tmp_path, "graphs-file", path="bad.pt")
    per_node = [Data(x=torch.randn(n, 4), edge_index=torch.tensor([[0, 1], [1, 0]]), y=torch.zeros(n))
                for n in (3, 4, 5)]
    torch.save(per_node, tmp_path / "per_node.pt")
    with pytest.raises(PartOptionError, match=r"y hold different numbers of values \(3, 4, 5\).*not supported yet"):
        load(tmp_path, "graphs-file", path="per_node.pt")
    assert Data in torch.serialization.get_safe_globals()  # loading left PyG's process-wide allow-list as it was


def _write_cora(cora: Data, folder: Path) -> list[str]:
    ids = [f"paper{i}" for i in range(cora.num_nodes)]
    split = np.where(cora.train_mask, "train", np.where(cora.val_mask, "val", np.where(cora.test_mask, "test", "")))
    nodes = pd.DataFrame(cora.x.numpy(), columns=[f"f{i}" for i in range(cora.x.size(1))])
    nodes.insert(0, "id", ids)
    nodes["label"], nodes["split"] = cora.y.numpy(), split
    nodes.sample(frac=1.0, random_state=0).to_csv(folder / "nodes.csv", index=False)  # any row order
    once = cora.edge_index[:, cora.edge_index[0] < cora.edge_index[1]]  # each undirected edge once
    pd.DataFrame({"paper": [ids[i] for i in once[0]], "cites": [ids[i] for i in once[1]]}).to_csv(
        folder / "edges.csv", index=False)
    return ids


@pytest.mark.slow
def test_edge_list_cora_equals_planetoid(custom_root, tmp_path):
    cora = Planetoid(str(custom_root / "Planetoid"), "Cora")[0]
    ids = _write_cora(cora, tmp_path)
    splits = load(tmp_path, "edge-list", edges="edges.csv", nodes="nodes.csv")
    graph = splits.train[0]
    order = torch.tensor([int(i.removeprefix("paper")) for i in pd.read_csv(tmp_path / "nodes.csv")["id"]])
    assert torch.equal(graph.x, cora.x[order]) and torch.equal(graph.y, cora.y[order])
    relabel = torch.empty_like(order)
    relabel[order] = torch.arange(order.numel())
    assert torch.equal(coalesce(graph.edge_index), coalesce(relabel[cora.edge_index]))
    for part, mask in zip((splits.train, splits.val, splits.test), (cora.train_mask, cora.val_mask, cora.test_mask),
                          strict=True):
        assert torch.equal(part[0].target_mask, mask[order])
    assert (splits.info.level, splits.info.task, splits.info.num_outputs) == ("node", "multiclass", 7)
    edges = pd.read_csv(tmp_path / "edges.csv")
    edges.loc[len(edges)] = [ids[0], "paper99999"]
    edges.to_csv(tmp_path / "edges.csv", index=False)
    with pytest.raises(PartOptionError,
                       match=rf"1 edges name nodes that are not in .* line {len(edges) + 1}: 'paper0' -> 'paper99999'"):
        load(tmp_path, "edge-list", edges="edges.csv", nodes="nodes.csv")


def test_task_inference_and_metric_choice():
    assert infer_task(torch.tensor([[0], [1], [1]])) == ("binary", 1)
    assert infer_task(torch.tensor([[0], [2], [1]])) == ("multiclass", 3)
    assert infer_task(torch.tensor([[0.0, 1.0], [float("nan"), 0.0]])) == ("multilabel", 2)
    assert infer_task(torch.tensor([[0.5], [2.0]])) == ("regression", 1)
    assert infer_task(torch.tensor([[0.0], [3.0]]), "multiclass") == ("multiclass", 4)
    with pytest.raises(PartOptionError, match="task multiclass needs one target column of class ids"):
        infer_task(torch.tensor([[0.5], [2.0]]), "multiclass")
    with pytest.raises(PartOptionError, match="task binary needs targets of 0 or 1"):
        infer_task(torch.tensor([[0.5], [2.0]]), "binary")
    with pytest.raises(PartOptionError,
                       match="metric 'accuracy' does not score task regression; choose one of mae, rmse"):
        pick_metric("regression", "accuracy")


def test_scaffold_split_keeps_each_scaffold_in_one_part():
    smiles = ["c1ccccc1C", "c1ccccc1O", "c1ccccc1N", "C1CCCCC1C", "C1CCCCC1O", "CCO", "CCC", "c1ccncc1C", "C1CC1C",
              "CC"]
    train, val, test = scaffold_split(smiles, [0.6, 0.2, 0.2])
    assert sorted(torch.cat([train, val, test]).tolist()) == list(range(10))
    assert {0, 1, 2} <= set(train.tolist())  # the largest scaffold group (benzene) goes to train first


def test_a_recipe_trains_on_a_pyg_dataset(custom_root, tmp_path):
    recipe_file = tmp_path / "enzymes.yaml"
    recipe_file.write_text(
        "model: {hidden: 32, layers: 2, heads: 4, local: gcn, mixer: full}\n"
        f"data: {{name: pyg, root: {custom_root}, batch_size: 32, "
        f"options: {{class: TUDataset, name: ENZYMES, split: random}}}}\n"
        f"train: {{max_epochs: 4, lr: 0.003, out_dir: {tmp_path / 'runs'}, progress_bar: false}}\n")
    result = run(load_recipe(recipe_file))
    losses = epoch_values(result.metrics_csv, "train/loss")
    assert losses[3] < losses[0]
    assert result.metric == "accuracy" and 0 <= result.test_value <= 1


def test_the_readmes_own_data_examples_are_valid_recipes(tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "docs" / "data.md").read_text()
    section = readme.split("<!-- your-data -->", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.+?)\n```", section, re.S)
    assert [re.search(r"name: ([\w-]+)", block).group(1) for block in blocks] == [
        "pyg", "smiles-csv", "graphs-file", "edge-list"]
    for index, block in enumerate(blocks):
        recipe_file = tmp_path / f"example{index}.yaml"
        recipe_file.write_text(block + "\n")
        assert load_recipe(recipe_file).data.name in block  # its options pass the dataset's option checks
    misspelled = tmp_path / "misspelled.yaml"
    misspelled.write_text(blocks[1].replace("skip_invalid", "skip_invalids") + "\n")
    with pytest.raises(RecipeError, match="has no option 'skip_invalids'. Did you mean 'skip_invalid'"):
        load_recipe(misspelled)


def test_a_pyg_class_with_a_split_argument_gives_its_own_parts(tmp_path):
    """ZINC's own train / val / test (files in its raw format, written here: the real pickles are not in ../shared)."""
    import pickle

    raw = tmp_path / "ZINC" / "raw"
    raw.mkdir(parents=True)
    generator = torch.Generator().manual_seed(0)
    for part, count in (("train", 12), ("val", 4), ("test", 4)):
        molecules = []
        for _ in range(count):
            n = int(torch.randint(4, 9, (1,), generator=generator))
            bonds = torch.zeros(n, n, dtype=torch.long)
            chain = torch.arange(n - 1)
            bonds[chain, chain + 1] = bonds[chain + 1, chain] = torch.randint(1, 4, (n - 1,), generator=generator)
            molecules.append({"atom_type": torch.randint(0, 20, (n,), generator=generator), "bond_type": bonds,
                              "logP_SA_cycle_normalized": torch.randn(1, generator=generator)})
        with (raw / f"{part}.pickle").open("wb") as file:
            pickle.dump(molecules, file)
        (raw / f"{part}.index").write_text(",".join(map(str, range(count))) + "\n")
    splits = load(tmp_path, "pyg", **{"class": "ZINC"})
    assert (len(splits.train), len(splits.val), len(splits.test)) == (12, 4, 4)
    info = splits.info
    assert (info.task, info.metric) == ("regression", "mae")
    assert (info.node_encoder, info.edge_encoder) == ("embedding", "embedding")
    largest_atom = max(int(g.x.max()) for part in (splits.train, splits.val, splits.test) for g in part)
    assert info.node_in == largest_atom + 1 and info.edge_in == 4
    assert splits.test[0].y.shape == (1, 1)
