"""The official raw files each dataset needs: where they go, where they come from, how to check them.

A dataset declares its files in its :class:`~graphformers.data.base.DatasetSpec`; loading calls
:func:`ensure_raw_files`,
which downloads what is missing and, when that fails (no network, a moved URL), raises a
:class:`MissingDataError` listing every file's exact expected path and source, and the
``python -m graphformers.data place`` command that copies files you fetched elsewhere.
"""
from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

from torch_geometric.data import download_url

from graphformers.data.base import RawFile
from graphformers.errors import GraphformersError
from graphformers.registry import DATASETS
from graphformers.resources import DEFAULT_DATA_ROOT


class MissingDataError(GraphformersError, RuntimeError):
    """A dataset's raw files are absent or not the official ones; the message says what to put where."""


def md5sum(path: Path) -> str:
    """The file's MD5, read in 1 MiB blocks."""
    digest = hashlib.md5()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_raw_files(dataset: str, root: Path, download: bool = True) -> None:
    """Make sure every raw file of ``dataset`` is under ``root`` with its published MD5.

    Missing files are downloaded when ``download`` (and a URL is known); whatever is still
    missing afterwards is reported, all at once, in a :class:`MissingDataError`.
    """
    files = DATASETS.get(dataset).raw_files
    failures: dict[str, str] = {}
    for file in files:
        target = root / file.path
        if not target.exists() and download and file.url:
            try:
                _download(file, target)
            except Exception as error:  # noqa: BLE001 -- any network/IO failure is reported below
                failures[file.path] = f"{type(error).__name__}: {error}"
    missing = [file for file in files if not (root / file.path).exists()]
    if missing:
        lines = [f"  {root / file.path}"
                 + (f"\n      from {file.url or file.source}" if file.url or file.source else "")
                 + (f"\n      (download failed: {failures[file.path]})" if file.path in failures else "")
                 for file in missing]
        raise MissingDataError(
            f"{dataset}: raw files missing under the data root {root}:\n" + "\n".join(lines)
            + f"\nDownload them elsewhere, then run: python -m graphformers.data place {dataset} <folder with the "
              f"files>"
            + (f" --root {root}" if root != DEFAULT_DATA_ROOT else "")
            + _rebuild_hint(dataset, root)
        )
    for file in files:
        if file.md5 and md5sum(root / file.path) != file.md5:
            raise MissingDataError(
                f"{dataset}: {root / file.path} has MD5 {md5sum(root / file.path)}, but the official file has "
                f"{file.md5}. Replace it with the official file (source: {file.url or 'see the dataset docs'})."
            )


def _rebuild_hint(dataset: str, root: Path) -> str:
    """For an OGB molecule dataset: the command that rebuilds it from its MoleculeNet CSV."""
    from graphformers.data.moleculenet import SOURCES

    if dataset not in SOURCES:
        return ""
    where = f" --root {root}" if root != DEFAULT_DATA_ROOT else ""
    return (f"\nOr rebuild it from MoleculeNet's {SOURCES[dataset].csv}: graphformers data build-ogb {dataset} "
            f"<folder with {SOURCES[dataset].csv}>{where}")


def ensure_via_library(dataset: str, root: Path, folder: Path, fetch: Callable[[], object], download: bool) -> None:
    """Let a library's own downloader (``fetch``) create ``folder``, then check ``dataset``'s raw files.

    ``fetch`` runs only when ``download`` and ``folder`` is absent: the libraries' downloaders
    delete or prompt about an existing folder, which would destroy or hang on files placed by
    hand. Whatever is still missing afterwards raises :class:`MissingDataError`.
    """
    if download and not folder.exists():
        try:
            fetch()
        except Exception:  # noqa: BLE001 -- offline or moved: the check below reports what is missing
            pass
    ensure_raw_files(dataset, root, download=False)


def _download(file: RawFile, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    downloaded = Path(download_url(file.url, str(target.parent), log=False))
    if downloaded != target:
        downloaded.replace(target)


def place(dataset: str, source: Path, root: Path) -> list[Path]:
    """Copy ``dataset``'s raw files found anywhere under ``source`` (by file name) into ``root``'s layout.

    Returns the files written; raises :class:`MissingDataError` naming the files not found
    (the others are still copied) and refuses targets that would land outside ``root``.
    """
    with_files = datasets_with_raw_files()
    if dataset not in with_files:
        raise MissingDataError(f"place: no raw files are declared for {dataset!r}; datasets with raw files: "
                               f"{', '.join(with_files)}.")
    root = root.resolve()
    written, not_found = [], []
    for file in DATASETS.get(dataset).raw_files:
        target = (root / file.path).resolve()
        if not target.is_relative_to(root):
            raise MissingDataError(f"place: {file.path} would be written outside the data root {root}; refused.")
        candidates = sorted(path for path in Path(source).rglob(file.name) if path.is_file())
        if not candidates:
            not_found.append(file)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(candidates[0], target)
        written.append(target)
    if not_found:
        raise MissingDataError(f"place: not found under {source}: {', '.join(f.name for f in not_found)} "
                               f"(copied {len(written)} other file(s)).")
    return written


def datasets_with_raw_files() -> list[str]:
    """Registered datasets that declare raw files, sorted."""
    return [entry.name for entry in DATASETS.entries() if entry.part.raw_files]
