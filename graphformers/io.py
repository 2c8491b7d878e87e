"""Files that are either fully written or not there: a kill or a full disk mid-save never leaves a
truncated file, and the previous version of the file stays as it was; files that one process at a time
prepares (:func:`exclusive`); and saved PyG graphs read back in ``torch.load``'s safe ``weights_only`` mode."""
from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import torch
from filelock import FileLock, Timeout
from torch_geometric.data import Data
from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
from torch_geometric.data.storage import GlobalStorage

from graphformers.errors import GraphformersError

_FULL = (errno.ENOSPC, errno.EDQUOT)
"""``errno`` values of a full filesystem and of an exhausted disk quota."""


log = logging.getLogger(__name__)


class DiskFullError(GraphformersError):
    """A file could not be written for lack of space (or quota); the message names it and the space needed."""


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None], size: int) -> None:
    """``write(file)`` into a temporary file in the target's folder, fsync, then rename it over the target.

    The rename is atomic because it stays on one filesystem (staging under ``/tmp`` and moving,
    as Lightning does, is a copy when ``/tmp`` is another filesystem). On any failure the temporary
    file is removed and the target is untouched; a full disk or an exhausted quota becomes one
    :class:`DiskFullError`.

    Args:
        path (str or Path): the file to write.
        write (callable): writes the whole content to the binary file it is given.
        size (int): about how many bytes the content takes, for the full-disk message.

    Raises:
        DiskFullError: no space (or quota) was left for the folder, the temporary file or its content.
    """
    target = Path(path)
    temporary: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        temporary = Path(name)
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; these are ordinary files
        os.replace(temporary, target)
    except BaseException as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        full = _disk_full(error)
        if full is not None:
            raise DiskFullError(_full_message(target, size, full)) from None
        raise


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save(obj)`` to ``path`` through :func:`atomic_write`."""
    atomic_write(path, lambda file: torch.save(obj, file), _tensor_bytes(obj))


def atomic_write_text(path: str | Path, text: str) -> None:
    """``text`` (UTF-8) to ``path`` through :func:`atomic_write`."""
    data = text.encode("utf-8")
    atomic_write(path, lambda file: file.write(data), len(data))


@contextmanager
def exclusive(lock_path: str | Path, holder: str) -> Iterator[None]:
    """Run the ``with`` body while holding an exclusive lock on ``lock_path``, so that processes preparing
    the same files (two runs processing one dataset) take turns instead of reading each other's
    half-written output. The operating system releases the lock when its holder dies, so a killed
    run never leaves it stuck. Where the lock file cannot be created (a read-only shared data root),
    the body runs unlocked: this process cannot write there either. The lock is not reentrant:
    never take the same lock again inside the body.

    Args:
        lock_path (str or Path): the lock file (its folder is created if missing).
        holder (str): what the lock guards, for the message printed while waiting for it.
    """
    lock_path = Path(lock_path)
    lock = FileLock(lock_path)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            lock.acquire(timeout=0)
        except Timeout:  # shown: a run waiting behind another's download or processing must not look hung
            log.warning("%s: waiting for another process, which holds %s", holder, lock_path)
            lock.acquire()
        locked = True
    except OSError as error:  # read-only: no lock file, and nothing to write for anyone
        log.debug("%s: cannot lock %s (%s); going on unlocked", holder, lock_path, error.strerror)
        locked = False
    try:
        yield
    finally:
        if locked:
            lock.release()


def _disk_full(error: BaseException) -> int | None:
    """The ``errno`` (ENOSPC or EDQUOT) if ``error`` or an exception it arose from is a full disk or an
    exhausted quota (torch's zip writer raises its own error while unwinding from the ``OSError``)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in _FULL:
            return error.errno
        error = error.__cause__ or error.__context__
    return None


def _full_message(target: Path, size: int, code: int) -> str:
    """What was not written, what it needs, what is free (or that a quota is spent), and what to do."""
    folder = next((parent for parent in (target.parent, *target.parents) if parent.exists()), Path("/"))
    if code == errno.EDQUOT:
        lack = f"your disk quota is used up (writing it needs about {_megabytes(size)})"
    else:
        lack = (f"no space left on the device: writing it needs about {_megabytes(size)} and "
                f"{_megabytes(shutil.disk_usage(folder).free)} are free in {folder}")
    previous = f"the previous {target.name} is intact" if target.exists() else f"there was no {target.name} before"
    return (f"{target}: {lack}. Nothing partial was left and {previous}. Free space there or write to another "
            f"disk (train.out_dir, data.root), then rerun; a training run continues from its last checkpoint "
            f"with --resume.")


def _megabytes(size: int) -> str:
    """``size`` bytes in MB, for messages."""
    return f"{size / 2**20:,.1f} MB"


def _tensor_bytes(obj: Any) -> int:
    """The bytes of the tensors in ``obj`` (nested dicts, lists, tuples), about its saved size."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(_tensor_bytes(value) for value in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_tensor_bytes(value) for value in obj)
    return 0


PYG_SAFE_GLOBALS = [Data, DataEdgeAttr, DataTensorAttr, GlobalStorage]
"""PyG classes inside saved graphs and OGB's processed files: ``ogb`` loads them with a bare
``torch.load``, which torch >= 2.6 runs with ``weights_only=True``; allow-listing these keeps that
safe mode working."""


def pyg_safe_globals() -> torch.serialization.safe_globals:
    """A context allowing :data:`PYG_SAFE_GLOBALS` in ``weights_only`` loads. Only the ones not yet
    allowed are listed: leaving the context removes what it listed, and PyG allows ``Data`` for the
    whole process on import (removing it broke every later load of PyG's processed files)."""
    allowed = torch.serialization.get_safe_globals()
    return torch.serialization.safe_globals([cls for cls in PYG_SAFE_GLOBALS if cls not in allowed])
