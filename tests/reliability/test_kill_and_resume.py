"""A run killed with SIGKILL in the middle of training and resumed with ``--resume`` ends with exactly
the weights and test metric of an uninterrupted run (deterministic CPU training; compared bit for bit)."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
OVERRIDES = ["data.options.num_train=256", "data.options.num_val=64", "data.options.num_test=64",
             "data.batch_size=16", "train.max_epochs=4", "model.hidden=32", "model.layers=2", "model.dropout=0.2",
             "model.encoders=[{name: lap, k: 4, dim: 8}]", "train.progress_bar=false"]


def _train(out_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphformers.train", "recipes/quickstart.yaml", *OVERRIDES,
                           f"train.out_dir={out_dir}", *extra], cwd=REPO, capture_output=True, text=True, timeout=900)


def _weights(out_dir: Path) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(out_dir / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["epoch"] == 3
    return checkpoint["state_dict"]


@pytest.mark.slow
def test_sigkill_mid_training_then_resume_equals_an_uninterrupted_run(tmp_path):
    straight = _train(tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr

    killed_dir = tmp_path / "killed"
    victim = subprocess.Popen([sys.executable, "-m", "graphformers.train", "recipes/quickstart.yaml", *OVERRIDES,
                               f"train.out_dir={killed_dir}"], cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    first_checkpoint = killed_dir / "version_0" / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 600
    while not first_checkpoint.is_file() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # into the next epoch
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=60) == -signal.SIGKILL  # killed, not finished
    assert torch.load(first_checkpoint, weights_only=True)["epoch"] < 3

    resumed = _train(killed_dir, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    expected, actual = _weights(tmp_path / "straight"), _weights(killed_dir)
    for name, tensor in expected.items():
        assert torch.equal(actual[name], tensor), name
    metric_line = [line for line in straight.stdout.splitlines() if line.startswith("test ")]
    assert metric_line and metric_line == [line for line in resumed.stdout.splitlines() if line.startswith("test ")]
