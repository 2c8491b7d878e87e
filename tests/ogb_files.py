"""Writers for OGB's raw folder layout, used to test loaders on files in the official format."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np


def write_gzip_csv(path: Path, rows: list[list]) -> None:
    """A headerless gzipped CSV (None -> empty field, OGB's missing value)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(",".join("" if v is None else str(v) for v in row) + "\n"
                                           for row in rows).encode()))


def write_ogb_folder(directory: Path, tables: dict[str, list], count: int, split: str,
                     rng: np.random.Generator) -> dict[str, np.ndarray]:
    """OGB's folder layout: ``raw/<table>.csv.gz``, a random half/quarter/quarter split of ``count``
    items in ``split/<split>/``, and the release marker. Returns the split."""
    for name, rows in tables.items():
        write_gzip_csv(directory / "raw" / f"{name}.csv.gz", rows)
    order = rng.permutation(count)
    parts = {"train": order[: count // 2], "valid": order[count // 2: 3 * count // 4], "test": order[3 * count // 4:]}
    for part, indices in parts.items():
        write_gzip_csv(directory / "split" / split / f"{part}.csv.gz", [[int(i)] for i in sorted(indices)])
    (directory / "RELEASE_v1.txt").write_text("")
    return parts
