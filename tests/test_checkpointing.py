"""Checkpoint files are replaced atomically and loaded with ``weights_only``."""
from __future__ import annotations

import pytest
import torch

from graphformers.training.checkpointing import AtomicCheckpointIO, UntrustedCheckpointError


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    io = AtomicCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint({"epoch": 1, "weights": torch.ones(3)}, path)

    def crash_midway(obj, file, *args, **kwargs):
        file.write(b"partial bytes")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"epoch": 2, "weights": torch.zeros(3)}, path)
    monkeypatch.undo()
    restored = io.load_checkpoint(path)
    assert restored["epoch"] == 1 and torch.equal(restored["weights"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_load_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.ckpt"
    torch.save({"callback": print}, path)
    with pytest.raises(UntrustedCheckpointError, match="refused: the checkpoint holds pickled objects"):
        AtomicCheckpointIO().load_checkpoint(path)
