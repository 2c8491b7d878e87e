"""Shared helpers: random graphs of different sizes and their batches."""
from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import signal
import sys
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import erdos_renyi_graph

from graphformers.cli import main as cli
from graphformers.resources import DATA_ROOT_VARIABLE
from graphformers.task import TaskInfo

NODE_FEATURES = 5
CPU_STRATEGY = SimpleNamespace(root_device=torch.device("cpu"))
"""What a stand-in trainer's ``strategy`` tells a data module: it trains on the CPU."""
EDGE_FEATURES = 3


SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each notebook runs whole (10-15 s here), and the first test to read Peptides-func processes its
    15,535 molecules (about a minute): ``slow`` tests. This hook sees the whole session's items (a
    conftest beside the notebooks would shadow this one as ``conftest``)."""
    for item in items:
        if NOTEBOOKS in Path(item.path).resolve().parents or "peptides_root" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


def pytest_configure(config: pytest.Config) -> None:
    """In a pytest-xdist worker, torch's threads (also those of the processes a test starts, through
    ``OMP_NUM_THREADS``) share the CPUs with the other workers: each worker gets its share of threads
    instead of all of them (oversubscribed threads spin)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        threads = max(1, torch.get_num_threads() // workers)
        torch.set_num_threads(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real raw files (``../shared/data`` beside the checkout; CI provides it). Missing is a failure, not a skip."""
    assert SHARED_DATA.is_dir(), \
        f"the real raw files are expected at {SHARED_DATA} (CI places ../shared beside the clone)"
    return SHARED_DATA


def _session_folder(tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str) -> Path:
    """A folder every pytest-xdist worker of this session shares (guard what fills it with a ``FileLock``)."""
    base = tmp_path_factory.getbasetemp()
    return (base if worker_id == "master" else base.parent) / name


@pytest.fixture(scope="session")
def peptides_root(shared_data, tmp_path_factory, worker_id) -> Path:
    """A data root holding the real Peptides-func raw files, placed by ``python -m graphformers.data place`` and
    processed once for the whole session: the pytest-xdist workers share it (the first processes its 15,535
    molecules, about a minute, while the others wait on its lock), and so share its encoding caches."""
    from filelock import FileLock

    from graphformers.registry import DATASETS

    root = _session_folder(tmp_path_factory, worker_id, "peptides-root")
    ready = root.with_name(root.name + ".ready")  # written once processed: a worker that died midway left none
    with FileLock(f"{root}.lock"):
        if not ready.is_file():
            assert cli(["data", "place", "peptides-func", str(shared_data), "--root", str(root)]) == 0
            DATASETS.get("peptides-func").load(str(root), {"download": False})
            ready.touch()
    return root


@pytest.fixture(scope="session")
def ogb_molecules(shared_data, tmp_path_factory, worker_id):
    """``build(name) -> (root, report)``: a data root where OGB's molecule set ``name`` is rebuilt from the
    real MoleculeNet CSV (``graphformers data build-ogb``) and processed, once per session: the pytest-xdist
    workers share the root (the first to need a set builds it while the others wait on its lock)."""
    from filelock import FileLock

    from graphformers.data.ogb_build import BuildReport, build_ogb
    from graphformers.registry import DATASETS

    root = _session_folder(tmp_path_factory, worker_id, "ogb-molecules")
    root.mkdir(exist_ok=True)

    def build(name: str):
        written = root / f"{name}.report.json"
        with FileLock(f"{written}.lock"):
            if not written.is_file():
                report = build_ogb(name, shared_data / "MoleculeNet", root)
                DATASETS.get(name).load(str(root), {"download": False})  # processed here, by one worker
                written.write_text(json.dumps(dataclasses.asdict(report), default=str))
        fields = json.loads(written.read_text())
        return root, BuildReport(Path(fields["directory"]), fields["molecules"], tuple(fields["left_out"]),
                                 tuple(fields["lenient"]), fields["existing"])

    return build


NODE_DATASETS = ("minesweeper", "tolokers", "chameleon-filtered", "squirrel-filtered", "cora", "citeseer")


@pytest.fixture(scope="session")
def node_data_root(shared_data, tmp_path_factory) -> Path:
    """A data root holding the real files of the one-graph node datasets (Platonov et al.'s four
    heterophilous graphs, Cora and CiteSeer), placed by ``python -m graphformers.data place``."""
    root = tmp_path_factory.mktemp("node-root")
    for name in NODE_DATASETS:
        assert cli(["data", "place", name, str(shared_data), "--root", str(root)]) == 0
    return root


@pytest.fixture(autouse=True, scope="session")
def data_root_outside_the_checkout(tmp_path_factory):
    """Tests that do not set ``data.root`` write (encoding caches, ...) to a temporary data root."""
    patch = pytest.MonkeyPatch()
    patch.setenv(DATA_ROOT_VARIABLE, str(tmp_path_factory.mktemp("data-root")))
    yield
    patch.undo()


@pytest.fixture
def isolated():
    """``isolated(*registries)``: what the test registers in them is forgotten after it
    (:meth:`~graphformers.registry.Registry.isolated`)."""
    with ExitStack() as stack:
        yield lambda *registries: [stack.enter_context(registry.isolated()) for registry in registries]


@pytest.fixture
def helper_module(monkeypatch, isolated):
    """``helper_module(path, registry)``: makes the module file ``path`` importable by a recipe's
    ``imports:`` and keeps what it registers in ``registry`` out of the other tests."""
    imported = []

    def prepare(path: Path, registry) -> None:
        monkeypatch.syspath_prepend(str(path.parent))
        isolated(registry)
        monkeypatch.delitem(sys.modules, path.stem, raising=False)
        imported.append(path.stem)

    yield prepare
    for name in imported:
        sys.modules.pop(name, None)


def epoch_values(metrics_csv: Path, column: str) -> dict[int, float]:
    """``{epoch: value}`` of one logged column of a run's ``metrics.csv``."""
    with metrics_csv.open() as file:
        return {int(row["epoch"]): float(row[column]) for row in csv.DictReader(file) if row.get(column)}


def random_graph(num_nodes: int, edge_prob: float = 0.3, seed: int = 0) -> Data:
    """An undirected Erdos-Renyi graph with float node and edge features."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    edge_index = erdos_renyi_graph(num_nodes, edge_prob)
    return Data(
        x=torch.randn(num_nodes, NODE_FEATURES, generator=generator),
        edge_index=edge_index,
        edge_attr=torch.randn(edge_index.size(1), EDGE_FEATURES, generator=generator),
        num_nodes=num_nodes,
    )


def two_small_graphs() -> list[Data]:
    """A 5-node undirected graph and a 4-node directed ring, 5 float features each:
    small enough to compute models densely, graph by graph."""
    generator = torch.Generator().manual_seed(1)
    first = Data(x=torch.randn(5, 5, generator=generator),
                 edge_index=torch.tensor([[0, 1, 1, 2, 3, 4, 0, 3], [1, 0, 2, 1, 4, 3, 3, 0]]))
    second = Data(x=torch.randn(4, 5, generator=generator), edge_index=torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]]))
    return [first, second]


def random_batch(sizes: tuple[int, ...] = (7, 12, 4, 9), seed: int = 0) -> Batch:
    return Batch.from_data_list([random_graph(n, seed=seed + i) for i, n in enumerate(sizes)])


def permute_graph(data: Data, perm: torch.Tensor) -> Data:
    """``data`` with node ``perm[i]`` moved to position ``i``: node attributes reordered, every
    ``*edge_index`` relabelled, input edges (with ``edge_attr``) also shuffled."""
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(perm.numel())
    edge_order = torch.randperm(data.edge_index.size(1))
    permuted = data.clone()
    for key, value in data.items():
        if key.endswith("edge_index"):
            permuted[key] = inverse[value]
        elif data.is_node_attr(key):
            permuted[key] = value[perm]
    permuted.edge_index = permuted.edge_index[:, edge_order]
    permuted.edge_attr = data.edge_attr[edge_order]
    return permuted


def task_info(level: str = "node", outputs: int = 3) -> TaskInfo:
    return TaskInfo(level=level, task="multiclass", num_outputs=outputs, metric="accuracy",
                    node_encoder="linear", node_in=NODE_FEATURES, edge_encoder="linear", edge_in=EDGE_FEATURES)


def naive_attention(mixer, x: torch.Tensor) -> torch.Tensor:
    """Exact multi-head softmax attention over one graph's nodes ``x [n, hidden]``, written out,
    with the fused ``qkv`` / ``out`` projections of ``mixer`` (full or performer)."""
    heads, head_dim = mixer.heads, mixer.hidden // mixer.heads
    q, k, v = mixer.qkv(x).view(x.size(0), 3, heads, head_dim).unbind(1)
    outputs = []
    for h in range(heads):
        scores = q[:, h] @ k[:, h].T / math.sqrt(head_dim)
        outputs.append(torch.softmax(scores, dim=-1) @ v[:, h])
    return mixer.out(torch.cat(outputs, dim=-1))


@pytest.fixture
def ctrl_c_raises():
    """Ctrl-C (SIGINT) raises ``KeyboardInterrupt`` during the test, as in an interactive shell, also
    when the suite was started with SIGINT ignored (``cmd &`` in a script, ``nohup``, some CI runners);
    the handler found is put back afterwards."""
    found = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, found)
