"""On-disk cache of precomputed node encodings, next to the dataset's own files.

An entry is keyed by a SHA-256 of the dataset (name and options), the split, every
encoding's ``repr`` (which names all of its options) and a fingerprint of the graphs'
structure (node counts and every edge set an encoding reads): a second run with the same configuration loads the
stored tensors instead of recomputing, a changed encoder option or changed data misses and
recomputes. Entries are written atomically and loaded with ``weights_only=True``.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphformers.encoders.precompute import NodeEncoding
from graphformers.errors import first_line
from graphformers.io import DiskFullError, atomic_torch_save


class EncodingCache:
    """Cache entries under ``directory`` for one dataset, described by ``dataset`` (name and options)."""

    def __init__(self, directory: str | Path, dataset: Mapping[str, Any]) -> None:
        self.directory = Path(directory)
        self.dataset = json.dumps(dataset, sort_keys=True, default=str)

    def path(self, split: str, graphs: Sequence[Data], encodings: Sequence[NodeEncoding]) -> Path:
        """The entry file for these graphs and encodings: ``<directory>/<split>-<key>.pt``."""
        digest = hashlib.sha256()
        digest.update(self.dataset.encode())
        digest.update(split.encode())
        digest.update(repr(list(encodings)).encode())
        edge_sets = list(dict.fromkeys(["edge_index"] + [encoding.edges for encoding in encodings]))
        for graph in graphs:
            digest.update(int(graph.num_nodes).to_bytes(8, "little"))
            for edges in edge_sets:
                digest.update(graph[edges].to(torch.int64).contiguous().numpy().tobytes())
        return self.directory / f"{split}-{digest.hexdigest()[:20]}.pt"

    def load(self, path: Path, graphs: Sequence[Data]) -> dict[str, Tensor] | None:
        """The stored ``{attribute: [sum N, c]}``, or None when absent, not matching the graphs, or
        unreadable (the entry is then deleted, with a warning naming it)."""
        if not path.is_file():
            return None
        try:
            stored = torch.load(path, weights_only=True)
            if not isinstance(stored, dict) or not isinstance(stored.get("encodings"), dict):
                raise ValueError("not an encoding-cache entry")
        except (RuntimeError, OSError, EOFError, ValueError, pickle.UnpicklingError) as error:
            # a cache is only a cache: a damaged entry (a truncated copy, a full disk when another tool wrote
            # it) is dropped and recomputed, never the end of the run
            reason = first_line(error)
            try:
                path.unlink(missing_ok=True)
                done = "deleted it"
            except OSError as denied:  # a read-only shared data root
                done = f"could not delete it ({denied.strerror})"
            warnings.warn(f"{path}: unreadable encoding-cache entry ({reason}); {done}, recomputing the encodings.",
                          stacklevel=2)
            return None
        sizes = torch.tensor([graph.num_nodes for graph in graphs], dtype=torch.long)
        if not torch.equal(stored.get("num_nodes", torch.empty(0)), sizes):
            return None
        return stored["encodings"]

    def store(self, path: Path, graphs: Sequence[Data], encoded: Mapping[str, Tensor]) -> None:
        """Write an entry atomically; on a full disk, warn and go on without it (nothing partial is left)."""
        sizes = torch.tensor([graph.num_nodes for graph in graphs], dtype=torch.long)
        try:
            atomic_torch_save({"num_nodes": sizes, "encodings": dict(encoded)}, path)
        except DiskFullError as error:  # the run has its encodings; only the next run's shortcut is lost
            warnings.warn(f"{error} The encodings are computed; continuing without caching them.", stacklevel=2)
