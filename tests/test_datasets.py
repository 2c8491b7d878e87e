"""Dataset loaders on the real raw files in ../shared/data (or, where none exist, files written in the
official raw format), the missing-data messages and ``python -m graphformers.data place``."""
from __future__ import annotations

import gzip
import pickle
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from ogb_files import write_ogb_folder
from torch_geometric.utils import is_undirected

import graphformers.data.raw_files as raw_files
from graphformers.cli import main as cli
from graphformers.data.base import LOCK_FOLDER, DatasetSpec, RawFile, SplitDataset
from graphformers.data.ogb_graphs import load_ogb_molecules
from graphformers.data.ogb_nodes import load_ogb_nodes
from graphformers.data.peptides import STRUCT_TARGETS, peptides_func, peptides_struct
from graphformers.data.raw_files import MissingDataError, md5sum, place
from graphformers.data.superpixels import load_superpixels
from graphformers.data.zinc import zinc
from graphformers.recipe import load_recipe
from graphformers.registry import DATASETS, Entry
from graphformers.training.runner import run

REPO = Path(__file__).resolve().parent.parent

PEPTIDE_SMILES = ["CC(N)C(=O)NCC(=O)O", "NCC(=O)NC(CO)C(=O)O", "CC(C)CC(N)C(=O)O", "NC(CCC(N)=O)C(=O)O",
                  "CSCCC(N)C(=O)O", "NC(Cc1ccccc1)C(=O)O"]


@pytest.mark.slow  # processes Peptides-func (15,535 molecules) when it is the first to read it
def test_peptides_func_has_the_published_size_split_and_shapes(peptides_root):
    """LRGB (Dwivedi et al. 2022, Table 1): 15,535 graphs, 150.94 nodes and 307.30 (directed) edges on
    average, 10 binary tasks; official split 10,873 / 2,331 / 2,331."""
    splits = peptides_func(str(peptides_root), download=False)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (10_873, 2_331, 2_331)
    graphs = list(splits.train) + list(splits.val) + list(splits.test)
    assert sum(g.num_nodes for g in graphs) == 2_344_859
    assert round(sum(g.num_edges for g in graphs) / len(graphs), 2) == 307.30
    first = graphs[0]
    assert first.x.shape[1] == 9 and first.x.dtype == torch.long
    assert first.edge_attr.shape == (first.num_edges, 3) and first.y.shape == (1, 10)
    labels = torch.cat([g.y for g in graphs])
    assert set(labels.unique().tolist()) == {0.0, 1.0}
    assert splits.info.metric == "ap" and splits.info.num_outputs == 10
    assert (peptides_root / "peptides-functional" / "processed" / "graphs.pt").is_file()


def test_missing_raw_files_name_their_paths_sources_and_the_place_command(tmp_path, monkeypatch):
    def offline(url, folder, log=True):
        raise OSError("network is unreachable")

    monkeypatch.setattr(raw_files, "download_url", offline)
    with pytest.raises(MissingDataError) as error:
        peptides_func(str(tmp_path))
    message = str(error.value)
    assert f"{tmp_path}/peptides-functional/raw/peptide_multi_class_dataset.csv.gz" in message
    assert f"{tmp_path}/peptides-functional/splits_random_stratified_peptide.pickle" in message
    assert "dropbox.com/s/ol2v01usvaxbsr8" in message and "download failed: OSError: network is unreachable" in message
    assert f"python -m graphformers.data place peptides-func <folder with the files> --root {tmp_path}" in message


def test_a_file_that_is_not_the_official_one_is_refused_before_unpickling(tmp_path, shared_data):
    target = tmp_path / "peptides-functional"
    (target / "raw").mkdir(parents=True)
    (target / "raw" / "peptide_multi_class_dataset.csv.gz").write_bytes(
        (shared_data / "peptides-functional/raw/peptide_multi_class_dataset.csv.gz").read_bytes())
    (target / "splits_random_stratified_peptide.pickle").write_bytes(pickle.dumps({"train": [0]}))
    with pytest.raises(MissingDataError, match="has MD5 .* but the official file has 5a0114bdadc80b94fc7ae974f13ef061"):
        peptides_func(str(tmp_path), download=False)


def test_place_reports_what_it_cannot_find_and_unknown_datasets(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "peptide_multi_class_dataset.csv.gz").write_bytes(b"x")
    with pytest.raises(MissingDataError, match="not found under .*splits_random_stratified_peptide.pickle"):
        place("peptides-func", tmp_path / "src", tmp_path / "root")
    assert (tmp_path / "root/peptides-functional/raw/peptide_multi_class_dataset.csv.gz").read_bytes() == b"x"
    assert cli(["data", "place", "no-such-set", str(tmp_path)]) == 2


def _declare_files(isolated, name: str, files: tuple[RawFile, ...]) -> None:
    """Make dataset ``name`` (registered, or a new one) declare ``files``, for this test only."""
    isolated(DATASETS)
    known = DATASETS.entry(name) if name in DATASETS else None
    spec = replace(known.part, raw_files=files) if known else DatasetSpec(name, lambda root: None, raw_files=files)
    DATASETS._entries[name] = Entry(name, spec, "tests", spec.loader)


def test_place_refuses_targets_outside_the_data_root(tmp_path, isolated):
    _declare_files(isolated, "escaping", (RawFile("../outside.csv"),))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "outside.csv").write_text("x")
    with pytest.raises(MissingDataError, match="outside the data root"):
        place("escaping", tmp_path / "src", tmp_path / "root")
    assert not (tmp_path / "outside.csv").exists()


def test_peptides_struct_loads_a_file_in_the_official_format(tmp_path, isolated):
    """No public copy of the struct CSV exists offline: write one in its format (smiles + 11 target columns)."""
    directory = tmp_path / "peptides-structural"
    (directory / "raw").mkdir(parents=True)
    rng = np.random.default_rng(0)
    targets = rng.normal(size=(len(PEPTIDE_SMILES), len(STRUCT_TARGETS)))
    header = ",smiles," + ",".join(STRUCT_TARGETS)
    rows = [f"{i},{smiles}," + ",".join(f"{v:.6f}" for v in row)
            for i, (smiles, row) in enumerate(zip(PEPTIDE_SMILES, targets, strict=True))]
    csv_path = directory / "raw" / "peptide_structure_normalized_dataset.csv.gz"
    csv_path.write_bytes(gzip.compress(("\n".join([header, *rows]) + "\n").encode()))
    split_path = directory / "splits_random_stratified_peptide_structure.pickle"
    split_path.write_bytes(pickle.dumps({"train": np.array([0, 1, 2, 3]), "val": np.array([4]), "test": np.array([5])}))
    _declare_files(isolated, "peptides-struct",
                   (RawFile(str(csv_path.relative_to(tmp_path)), md5=md5sum(csv_path)),
                    RawFile(str(split_path.relative_to(tmp_path)), md5=md5sum(split_path))))
    splits = peptides_struct(str(tmp_path), download=False)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (4, 1, 1)
    assert splits.info.task == "regression" and splits.info.metric == "mae" and splits.info.num_outputs == 11
    torch.testing.assert_close(splits.test[0].y, torch.tensor(targets[5:6], dtype=torch.float), atol=1e-5, rtol=0)
    assert splits.train[0].x.shape == (10, 9)  # CC(N)C(=O)NCC(=O)O: 10 heavy atoms


def _zinc_molecule(rng: np.random.Generator) -> dict:
    """One molecule in ZINC's pickle format: atom types, a symmetric bond-type matrix, the target."""
    n = int(rng.integers(4, 9))
    bonds = torch.zeros(n, n, dtype=torch.long)
    for child in range(1, n):
        parent = int(rng.integers(0, child))
        bonds[parent, child] = bonds[child, parent] = int(rng.integers(1, 4))
    return {"atom_type": torch.from_numpy(rng.integers(0, 28, size=n)), "bond_type": bonds,
            "logP_SA_cycle_normalized": torch.tensor([float(rng.normal())])}


def test_zinc_index_files_in_shared_data_select_the_documented_12k_subset(shared_data, tmp_path):
    with pytest.raises(MissingDataError, match="not found under .*train.pickle"):
        place("zinc", shared_data, tmp_path)
    counts = {split: len((tmp_path / "zinc/raw" / f"{split}.index").read_text()[:-1].split(","))
              for split in ("train", "val", "test")}
    assert counts == {"train": 10_000, "val": 1_000, "test": 1_000}


def test_zinc_loads_pickles_in_the_official_format(tmp_path):
    raw = tmp_path / "zinc" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    chosen = {"train": [0, 2, 3, 5, 7], "val": [1, 4], "test": [0, 3]}
    for split, indices in chosen.items():
        (raw / f"{split}.pickle").write_bytes(pickle.dumps([_zinc_molecule(rng) for _ in range(8)]))
        (raw / f"{split}.index").write_text(",".join(map(str, indices)) + "\r\n")
    data = zinc(str(tmp_path), download=False)
    assert (len(data.train), len(data.val), len(data.test)) == (5, 2, 2)
    graph = data.train[0]
    assert graph.x.shape == (graph.num_nodes, 1) and graph.x.dtype == torch.long
    assert graph.edge_attr.dtype == torch.long and set(graph.edge_attr.tolist()) <= {1, 2, 3}
    assert graph.y.shape == (1,) and data.info.metric == "mae"


def test_zinc_without_raw_files_says_where_molecules_zip_goes(tmp_path):
    with pytest.raises(MissingDataError) as error:
        zinc(str(tmp_path), download=False)
    assert f"{tmp_path}/zinc/raw/train.pickle" in str(error.value) and "molecules.zip" in str(error.value)


def _write_ogb_molecules(directory: Path, num_graphs: int, num_tasks: int, rng: np.random.Generator) -> dict:
    """A small dataset in OGB's raw CSV format (trees; one direction per bond, as OGB stores them)."""
    tables: dict[str, list] = {name: [] for name in ("edge", "edge-feat", "node-feat", "num-node-list",
                                                     "num-edge-list", "graph-label")}
    for _ in range(num_graphs):
        n = int(rng.integers(3, 9))
        bonds = [[int(rng.integers(0, child)), child] for child in range(1, n)]
        tables["edge"] += bonds
        tables["edge-feat"] += [[int(rng.integers(0, 4)), 0, int(rng.integers(0, 2))] for _ in bonds]
        tables["node-feat"] += [[int(rng.integers(0, 30))] + [0] * 8 for _ in range(n)]
        tables["num-node-list"].append([n])
        tables["num-edge-list"].append([len(bonds)])
        tables["graph-label"].append([None if num_tasks > 1 and rng.random() < 0.3 else int(rng.integers(0, 2))
                                      for _ in range(num_tasks)])
    parts = write_ogb_folder(directory, tables, num_graphs, "scaffold", rng)
    return {"sizes": {part: len(indices) for part, indices in parts.items()}, "edges": tables["num-edge-list"]}


@pytest.mark.parametrize("name,tasks", [("ogbg-molhiv", 1), ("ogbg-molpcba", 128)])
def test_ogb_molecules_load_files_in_the_official_raw_format(tmp_path, name, tasks):
    written = _write_ogb_molecules(tmp_path / name.replace("-", "_"), 24, tasks, np.random.default_rng(1))
    splits = load_ogb_molecules(name, str(tmp_path), download=False)
    assert (len(splits.train), len(splits.val), len(splits.test)) == tuple(written["sizes"].values())
    graphs = list(splits.train) + list(splits.val) + list(splits.test)
    assert all(g.x.shape[1] == 9 and g.edge_attr.shape[1] == 3 and g.y.shape == (1, tasks) for g in graphs)
    assert sum(g.num_edges for g in graphs) == 2 * sum(count for (count,) in written["edges"])  # both directions
    assert splits.info.evaluator == name


def test_an_incomplete_ogb_folder_is_reported_instead_of_ogbs_stdin_prompt(tmp_path):
    (tmp_path / "ogbg_molhiv" / "raw").mkdir(parents=True)
    with pytest.raises(MissingDataError) as error:
        load_ogb_molecules("ogbg-molhiv", str(tmp_path), download=True)
    assert f"{tmp_path}/ogbg_molhiv/RELEASE_v1.txt" in str(error.value) and "hiv.zip" in str(error.value)


@pytest.mark.parametrize("name,classes", [("pascalvoc-sp", 21), ("coco-sp", 81)])
def test_superpixel_datasets_load_pickles_in_the_official_format(tmp_path, name, classes):
    """Each split pickle is a list of ``(x [N, 14], edge_attr [E, 2], edge_index [2, E], y [N])`` tuples;
    COCO's labels use the original, non-contiguous COCO ids (up to 90) and are remapped."""
    rng = np.random.default_rng(0)
    label_ids = [0, 1, 13, 90] if name == "coco-sp" else [0, 5, 20]
    for split, count in (("train", 4), ("val", 2), ("test", 3)):
        graphs = []
        for _ in range(count):
            n = int(rng.integers(5, 12))
            edge_index = torch.from_numpy(np.stack([rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n)]))
            graphs.append((torch.rand(n, 14), torch.rand(3 * n, 2), edge_index, rng.choice(label_ids, n).tolist()))
        path = tmp_path / name / "raw" / f"{split}.pickle"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(graphs))
    splits = load_superpixels(name, str(tmp_path), download=False)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (4, 2, 3)
    labels = torch.cat([g.y for g in list(splits.train) + list(splits.val) + list(splits.test)])
    assert labels.max() < classes and splits.info.num_outputs == classes and splits.info.metric == "f1"
    if name == "coco-sp":
        assert set(labels.tolist()) <= {0, 1, 12, 80}  # 13 -> 12, 90 -> 80
    assert splits.train[0].x.shape[1] == 14 and splits.train[0].edge_attr.shape[1] == 2


OGB_NODE_SETS = {"ogbn-arxiv": (128, 40, "time"), "ogbn-products": (100, 47, "sales_ranking")}


def _write_ogb_node_graph(root: Path, name: str, num_nodes: int, rng: np.random.Generator) -> dict:
    """A small graph in ``name``'s raw CSV format: one direction per edge (arxiv's citations; products
    stores each edge once and OGB adds the inverse), float features, class labels, the official split
    folder; arxiv also has ``node_year``."""
    features, classes, split = OGB_NODE_SETS[name]
    edges = [[int(rng.integers(0, num_nodes)), int(rng.integers(0, num_nodes))] for _ in range(3 * num_nodes)]
    tables = {"edge": edges, "num-node-list": [[num_nodes]], "num-edge-list": [[len(edges)]],
              "node-feat": [[f"{v:.4f}" for v in rng.normal(size=features)] for _ in range(num_nodes)],
              "node-label": [[int(rng.integers(0, classes))] for _ in range(num_nodes)]}
    if name == "ogbn-arxiv":
        tables["node_year"] = [[int(rng.integers(2010, 2020))] for _ in range(num_nodes)]
    return write_ogb_folder(root / name.replace("-", "_"), tables, num_nodes, split, rng)


@pytest.mark.parametrize("name", sorted(OGB_NODE_SETS))
def test_ogb_node_sets_load_the_official_raw_format_as_one_masked_undirected_graph(tmp_path, name):
    parts = _write_ogb_node_graph(tmp_path, name, 60, np.random.default_rng(2))
    splits = load_ogb_nodes(name, str(tmp_path), download=False)
    features, classes, _ = OGB_NODE_SETS[name]
    for part, split in (("train", splits.train), ("valid", splits.val), ("test", splits.test)):
        (graph,) = split
        assert graph.num_nodes == 60 and graph.x.shape == (60, features)
        assert sorted(graph.target_mask.nonzero().view(-1).tolist()) == sorted(parts[part].tolist())
        assert is_undirected(graph.edge_index)
    assert splits.info.evaluator == name and splits.info.level == "node" and splits.info.num_outputs == classes


def test_masked_node_level_training_runs_on_arxiv_format_data(tmp_path):
    _write_ogb_node_graph(tmp_path, "ogbn-arxiv", 80, np.random.default_rng(3))
    recipe = load_recipe(REPO / "recipes" / "ogbn-arxiv-polynormer.yaml",
                         [f"data.root={tmp_path}", "model.hidden=32", "model.layers=2", "train.max_epochs=2",
                          "train.progress_bar=false", f"train.out_dir={tmp_path / 'runs'}"])
    result = run(recipe)
    assert result.metric == "acc" and 0.0 <= result.test_value <= 1.0


def test_products_recipe_trains_on_random_node_partitions(tmp_path):
    _write_ogb_node_graph(tmp_path, "ogbn-products", 300, np.random.default_rng(4))
    recipe = load_recipe(REPO / "recipes" / "ogbn-products-polynormer.yaml",
                         [f"data.root={tmp_path}", "model.hidden=32", "model.layers=2", "train.max_epochs=2",
                          "data.node_parts=4", "train.progress_bar=false", f"train.out_dir={tmp_path / 'runs'}"])
    result = run(recipe)
    assert result.metric == "acc" and 0.0 <= result.test_value <= 1.0


def _recording_loader(events: list[str]):
    """A loader that logs when it starts and ends, and takes long enough that two runs would overlap."""
    def loader(root: str) -> SplitDataset:
        events.append("start")
        time.sleep(0.3)
        events.append("end")
        return SplitDataset([], [], [], info=None)
    return loader


def test_runs_loading_one_dataset_at_once_take_turns(tmp_path):
    # two runs started together on an unprocessed dataset once both processed it, and one read the
    # other's half-written file; the loader now runs under a lock per dataset
    events: list[str] = []
    spec = DatasetSpec("slow-to-process", _recording_loader(events), raw_files=(RawFile("slow/raw.csv"),))
    runs = [threading.Thread(target=spec.load, args=(tmp_path, {})) for _ in range(2)]
    for started in runs:
        started.start()
    for started in runs:
        started.join()
    assert events == ["start", "end", "start", "end"]
    assert [path.name.split("-")[:-1] for path in (tmp_path / LOCK_FOLDER).iterdir()] == [["slow", "to", "process"]]


def test_a_data_root_where_no_lock_can_be_made_still_loads(tmp_path):
    (tmp_path / LOCK_FOLDER).write_text("a file where the lock folder would go")  # as a read-only root would
    events: list[str] = []
    DatasetSpec("unlockable", _recording_loader(events), raw_files=(RawFile("u/raw.csv"),)).load(tmp_path, {})
    assert events == ["start", "end"]
