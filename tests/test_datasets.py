"""Dataset loaders on the real raw files in ../shared/data (or, where none exist, files written in the
official raw format), the missing-data messages and ``python -m graphformers.data place``."""
from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

import graphformers.data.raw_files as raw_files
from graphformers.data.__main__ import main as data_main
from graphformers.data.peptides import STRUCT_TARGETS, peptides_func, peptides_struct
from graphformers.data.raw_files import MissingDataError, RawFile, md5sum, place

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
PEPTIDE_SMILES = ["CC(N)C(=O)NCC(=O)O", "NCC(=O)NC(CO)C(=O)O", "CC(C)CC(N)C(=O)O", "NC(CCC(N)=O)C(=O)O",
                  "CSCCC(N)C(=O)O", "NC(Cc1ccccc1)C(=O)O"]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED_DATA.is_dir(), f"the real raw files are expected at {SHARED_DATA} (CI places ../shared beside the clone)"
    return SHARED_DATA


@pytest.fixture(scope="session")
def peptides_root(shared_data, tmp_path_factory) -> Path:
    """A data root holding the real Peptides-func raw files, placed by the ``place`` command."""
    root = tmp_path_factory.mktemp("peptides-root")
    assert data_main(["place", "peptides-func", str(shared_data), "--root", str(root)]) == 0
    return root


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
    assert data_main(["place", "no-such-set", str(tmp_path)]) == 2


def test_place_refuses_targets_outside_the_data_root(tmp_path, monkeypatch):
    monkeypatch.setitem(raw_files.RAW_FILES, "escaping", (RawFile("../outside.csv"),))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "outside.csv").write_text("x")
    with pytest.raises(MissingDataError, match="outside the data root"):
        place("escaping", tmp_path / "src", tmp_path / "root")
    assert not (tmp_path / "outside.csv").exists()


def test_peptides_struct_loads_a_file_in_the_official_format(tmp_path, monkeypatch):
    """No public copy of the struct CSV exists offline: write one in its format (smiles + 11 target columns)."""
    directory = tmp_path / "peptides-structural"
    (directory / "raw").mkdir(parents=True)
    rng = np.random.default_rng(0)
    targets = rng.normal(size=(len(PEPTIDE_SMILES), len(STRUCT_TARGETS)))
    header = ",smiles," + ",".join(STRUCT_TARGETS)
    rows = [f"{i},{smiles}," + ",".join(f"{v:.6f}" for v in row) for i, (smiles, row) in enumerate(zip(PEPTIDE_SMILES, targets))]
    csv_path = directory / "raw" / "peptide_structure_normalized_dataset.csv.gz"
    csv_path.write_bytes(gzip.compress(("\n".join([header, *rows]) + "\n").encode()))
    split_path = directory / "splits_random_stratified_peptide_structure.pickle"
    split_path.write_bytes(pickle.dumps({"train": np.array([0, 1, 2, 3]), "val": np.array([4]), "test": np.array([5])}))
    monkeypatch.setitem(raw_files.RAW_FILES, "peptides-struct",
                        (RawFile(str(csv_path.relative_to(tmp_path)), md5=md5sum(csv_path)),
                         RawFile(str(split_path.relative_to(tmp_path)), md5=md5sum(split_path))))
    splits = peptides_struct(str(tmp_path), download=False)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (4, 1, 1)
    assert splits.info.task == "regression" and splits.info.metric == "mae" and splits.info.num_outputs == 11
    torch.testing.assert_close(splits.test[0].y, torch.tensor(targets[5:6], dtype=torch.float), atol=1e-5, rtol=0)
    assert splits.train[0].x.shape == (10, 9)  # CC(N)C(=O)NCC(=O)O: 10 heavy atoms
