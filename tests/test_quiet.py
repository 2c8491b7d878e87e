"""The libraries' notices left out of a command's output (``training/quiet.py``), and nothing else changed.
Each check runs in a fresh process: torch gives its notices once per process."""
from __future__ import annotations

import subprocess
import sys

import pytest
from helpers.paths import REPO

SPY = """import sys, warnings
callers = []
def spy(set_filter):
    def recorded(*args, **kwargs):
        callers.append(sys._getframe(1).f_globals.get("__name__", ""))
        return set_filter(*args, **kwargs)
    return recorded
warnings.filterwarnings, warnings.simplefilter = spy(warnings.filterwarnings), spy(warnings.simplefilter)
"""
"""Records the module of every call that sets a warning filter (set before anything else is imported)."""

RRWP_IN_THREADS = """import sys, warnings
from conftest import random_graph
from graphformers.pair_encodings import RRWP
from graphformers.pair_encodings.precompute import encode_pairs
from graphformers.training.quiet import quiet_libraries
graphs = [random_graph(12, edge_prob=0.3, seed=seed) for seed in range(6)]
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    with quiet_libraries() if sys.argv[1] == "quiet" else warnings.catch_warnings():
        encode_pairs(graphs, [RRWP(4)], workers=2)
print([str(warning.message) for warning in seen])
"""


def _python(script: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=REPO / "tests", capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
def test_importing_graphformers_sets_no_warning_filter():
    """Every command's module, every dataset and part, the runner: a program's filters stay its own."""
    done = _python(SPY + "from graphformers.cli.entry import commands; commands()\n"
                   "import graphformers.data.catalog, graphformers.pair_encodings, graphformers.training.runner\n"
                   "print([caller for caller in callers if caller.split('.')[0] == 'graphformers'])\n"
                   "print(len(callers))\n")
    ours, every = done.stdout.splitlines()[-2:]
    assert ours == "[]" and int(every) > 0  # the spy saw the other libraries set theirs


@pytest.mark.slow
@pytest.mark.parametrize("context", ["quiet", "plain"])
def test_torchs_csr_notice_from_the_rrwp_precompute_in_threads_is_left_out_only_in_quiet_libraries(context):
    messages = _python(RRWP_IN_THREADS, context).stdout.splitlines()[-1]
    assert ("Sparse CSR tensor support is in beta" in messages) == (context == "plain"), messages


@pytest.mark.slow
def test_full_batch_training_prints_none_of_torchs_sparse_notices(node_data_root, tmp_path):
    """Full-batch training aggregates over ``adj_t``, a sparse CSR tensor built by PyG's ``to_torch_csr_tensor``."""
    command = [sys.executable, "-m", "graphformers", "train", str(REPO / "recipes" / "cora-gat.yaml"),
               f"data.root={node_data_root}", f"train.out_dir={tmp_path}", "train.max_epochs=1",
               "train.progress_bar=false"]
    trained = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    assert "test accuracy" in trained.stdout
    assert "Sparse" not in trained.stderr, trained.stderr
