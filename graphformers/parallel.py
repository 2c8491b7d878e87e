"""Processing on every CPU: a function mapped over many items, in order, in forked worker processes
(:func:`process_map`: SMILES to molecular graphs, RDKit's cost; large graphs' sparse encodings) or
in threads (:func:`thread_map`: batched linear algebra, which releases the GIL)."""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

CHUNK = 256
"""Items a worker takes at a time: large enough that handing them over costs little beside RDKit's work."""


CGROUP_QUOTA = Path("/sys/fs/cgroup/cpu.max")
"""cgroup v2's CPU quota (``"<quota> <period>"`` or ``"max <period>"``): a container's share of the machine."""


def available_cpus() -> int:
    """The CPUs this process may use: its affinity (where the platform tells it, else all CPUs), at
    most its container's CPU quota (a container may see every CPU of the machine but use two)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = CGROUP_QUOTA.read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota here
    return cpus


def process_map(function: Callable[[Item], Result], items: Sequence[Item], workers: int | None = None,
                chunk: int = CHUNK, initializer: Callable[[], object] | None = None) -> list[Result]:
    """``[function(item) for item in items]``, on ``workers`` forked processes when that can help.

    Forked workers start at once and share what is imported (no re-import of torch or RDKit); where
    ``fork`` does not exist, or there is one worker or fewer than two chunks of items, the items are
    mapped here.

    Args:
        function (callable): a module-level function, or a ``functools.partial`` of one (workers
            receive it pickled).
        items (sequence): its arguments, one per call.
        workers (int, optional): processes (default: :func:`available_cpus`).
        chunk (int): items a worker takes at a time (default: :data:`CHUNK`).
        initializer (callable, optional): run once in each worker before its first item.
    """
    workers = available_cpus() if workers is None else workers
    if workers <= 1 or len(items) < 2 * chunk or "fork" not in multiprocessing.get_all_start_methods():
        return [function(item) for item in items]
    with multiprocessing.get_context("fork").Pool(min(workers, len(items) // chunk), initializer=initializer) as pool:
        return pool.map(function, items, chunksize=chunk)


def thread_map(function: Callable[[Item], Result], items: Sequence[Item], workers: int) -> list[Result]:
    """``[function(item) for item in items]``, on ``workers`` threads when there are several of both.

    Threads share memory (nothing is copied), so they suit work that runs outside the GIL: batched
    LAPACK/BLAS calls on stacked dense matrices.

    Args:
        function (callable): any callable.
        items (sequence): its arguments, one per call.
        workers (int): threads (``1`` or fewer: map here).
    """
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        return list(pool.map(function, items))
