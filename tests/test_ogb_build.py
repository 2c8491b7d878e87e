"""OGB's molecule datasets rebuilt from MoleculeNet's CSVs (``graphformers data build-ogb``): OGB's
published counts, the layout read by ``ogb`` itself through our loaders, the graphs of OGB's
``smiles2graph``, and one error line for a folder or CSV that cannot give the dataset."""
from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys

import pytest
import torch
from helpers.paths import REPO
from helpers.runs import error_line
from ogb.utils import smiles2graph

from graphformers import parallel
from graphformers.cli import main as cli
from graphformers.data.moleculenet import SOURCES
from graphformers.data.ogb_build import build_ogb
from graphformers.parallel import CHUNK, process_map
from graphformers.registry import DATASETS

PUBLISHED = {  # molecules, (train, valid, test), tasks: OGB's dataset pages and master.csv
    "ogbg-molbbbp": (2039, (1631, 204, 204), 1),
    "ogbg-molesol": (1128, (902, 113, 113), 1),
    "ogbg-molbace": (1513, (1210, 151, 152), 1),
    "ogbg-moltox21": (7831, (6264, 783, 784), 12),
    "ogbg-molhiv": (41127, (32901, 4113, 4113), 1),
}
POSITIVES = {"ogbg-molhiv": 1443, "ogbg-molbace": 691}
"""Positive molecules (MoleculeNet's; OGB keeps every row of these two files)."""
REPORTED = {  # CSV lines (1-based, with the header) left out, or parsed with RDKit's valence check off
    "ogbg-molbbbp": ((61, 63, 393, 616, 644, 647, 648, 649, 650, 651, 687), ()),
    "ogbg-molhiv": ((), (139, 989, 12884, 18295, 30786, 30787, 35730)),
    "ogbg-moltox21": ((), (1324, 2292, 2299, 3560, 4567, 4651, 5540, 6725)),
}


@pytest.fixture(scope="module")
def built(ogb_molecules):
    def load(name: str):
        root, report = ogb_molecules(name)
        return DATASETS.get(name).load(str(root), {"download": False}), report

    return load


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PUBLISHED))
def test_a_rebuilt_dataset_has_ogbs_published_counts(built, name):
    splits, report = built(name)
    molecules, sizes, tasks = PUBLISHED[name]
    assert report.molecules == molecules and (report.left_out, report.lenient) == REPORTED.get(name, ((), ()))
    assert (len(splits.train), len(splits.val), len(splits.test)) == sizes and sum(sizes) == molecules
    assert splits.train[0].y.shape == (1, tasks) and splits.info.num_outputs == tasks
    if name in POSITIVES:
        labels = torch.cat([graph.y for part in (splits.train, splits.val, splits.test) for graph in part])
        assert int(labels.sum()) == POSITIVES[name]


@pytest.mark.slow
def test_its_graphs_are_ogbs_smiles2graph_of_the_csv_in_its_order(built, shared_data):
    import pandas as pd

    splits, _ = built("ogbg-molesol")
    source = SOURCES["ogbg-molesol"]
    table = pd.read_csv(next((shared_data / "MoleculeNet").rglob(source.csv)))
    checked = [(index, graph) for part in (splits.train, splits.val, splits.test)
               for index, graph in zip(part.indices(), part, strict=True)]
    assert len(checked) == 1128
    for index, graph in checked:  # every ESOL SMILES parses: OGB's index is the CSV's row
        expected = smiles2graph(table[source.smiles][index])
        assert torch.equal(graph.x, torch.from_numpy(expected["node_feat"]))
        ours = {tuple(edge) + tuple(feat) for edge, feat in zip(graph.edge_index.t().tolist(), graph.edge_attr.tolist(),
                                                                  strict=True)}
        theirs = {tuple(edge) + tuple(feat) for edge, feat in zip(expected["edge_index"].T.tolist(),
                                                                    expected["edge_feat"].tolist(), strict=True)}
        assert ours == theirs
        assert graph.y.item() == pytest.approx(table[source.targets[0]][index])


@pytest.mark.slow
def test_training_on_a_rebuilt_set_prints_no_warning_about_ogbs_read_only_labels(ogb_molecules, tmp_path):
    """ogb turns each label's read-only array into a tensor it copies at once; torch's warning about it says
    nothing a user can act on. In a fresh process: torch prints it once per process."""
    root, _ = ogb_molecules("ogbg-molesol")
    shutil.copytree(root / "ogbg_molesol", tmp_path / "ogbg_molesol", ignore=shutil.ignore_patterns("processed"))
    command = [sys.executable, "-m", "graphformers", "train", str(REPO / "recipes" / "ogbg-molesol-gcn.yaml"),
               f"data.root={tmp_path}", f"train.out_dir={tmp_path / 'runs'}", "train.max_epochs=1",
               "train.limit_batches=1", "train.progress_bar=false", "model.layers=1", "model.hidden=8"]
    trained = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    assert "Processing" in trained.stdout + trained.stderr and (tmp_path / "ogbg_molesol" / "processed").is_dir()
    assert "not writable" not in trained.stderr


def test_a_folder_without_the_csv_is_one_error_line(tmp_path, capsys):
    (tmp_path / "tox21.csv").write_text("smiles,NR-AR\nCCO,0\n")
    assert cli(["data", "build-ogb", "ogbg-molbbbp", str(tmp_path), "--root", str(tmp_path / "root")]) == 2
    line = error_line(capsys)
    assert "holds no BBBP.csv" in line and "tox21.csv: another dataset?" in line
    assert not (tmp_path / "root").exists()


def test_a_csv_without_the_columns_is_one_error_line(tmp_path, capsys):
    (tmp_path / "BBBP.csv").write_text("smiles,label\nCCO,1\n")
    assert cli(["data", "build-ogb", "ogbg-molbbbp", str(tmp_path), "--root", str(tmp_path / "root")]) == 2
    assert "has no column 'p_np', which ogbg-molbbbp needs" in error_line(capsys)
    assert not (tmp_path / "root" / "ogbg_molbbbp").exists()


@pytest.mark.slow
def test_an_ogb_download_is_never_overwritten(shared_data, tmp_path, capsys):
    folder = build_ogb("ogbg-molesol", shared_data / "MoleculeNet", tmp_path).directory
    (folder / "RELEASE_v1.txt").write_text("# Release note for ogbg_molesol\n")  # as OGB's download has it
    again = build_ogb("ogbg-molesol", shared_data / "MoleculeNet", tmp_path)
    assert again.existing and (folder / "RELEASE_v1.txt").read_text() == "# Release note for ogbg_molesol\n"
    labels = folder / "raw" / "graph-label.csv.gz"
    labels.write_bytes(gzip.compress(b"1.0\n" * 1128))
    written = labels.read_bytes()
    assert cli(["data", "build-ogb", "ogbg-molesol", str(shared_data / "MoleculeNet"), "--root", str(tmp_path)]) == 2
    assert "raw/graph-label.csv.gz disagree with delaney-processed.csv" in error_line(capsys)
    assert labels.read_bytes() == written and not list(tmp_path.glob("*.building"))


def _call(number: int) -> tuple[int, int]:
    return number * number, os.getpid()


def test_process_map_gives_each_result_in_order_from_forked_workers():
    numbers = list(range(4 * CHUNK + 7))
    results = process_map(_call, numbers, workers=2)
    assert [square for square, _ in results] == [number * number for number in numbers]
    assert os.getpid() not in {pid for _, pid in results}  # computed in the workers
    assert {pid for _, pid in process_map(_call, numbers, workers=1)} == {os.getpid()}


def test_the_workers_are_at_most_the_containers_cpu_quota(tmp_path, monkeypatch):
    quota = tmp_path / "cpu.max"
    monkeypatch.setattr(parallel, "CGROUP_QUOTA", quota)
    affinity = len(os.sched_getaffinity(0))
    quota.write_text("max 100000\n")
    assert parallel.available_cpus() == affinity
    quota.write_text("50000 100000\n")  # half a CPU: one worker
    assert parallel.available_cpus() == 1
    quota.write_text(f"{100000 * (affinity + 4)} 100000\n")  # a quota above the CPUs it may run on
    assert parallel.available_cpus() == affinity
