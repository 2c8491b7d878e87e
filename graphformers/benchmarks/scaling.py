"""The ``scaling`` suite: one GPS layer's forward + backward per mixer on single graphs of growing size."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

from graphformers.resources import environment

COLUMNS = ["suite", "mixer", "nodes", "edges", "seconds", "steady_seconds", "peak_mib", "status",
           "device", "torch", "pyg", "threads", "commit"]
FIT_FROM_NODES = 10_000  # fit exponents above fixed overheads and cache effects
# glibc returns large freed blocks to the OS and every step then page-faults gigabytes of fresh
# memory (measured: Polynormer's mixer alone at N=10^6 took 14.3 s per step that way, 6.4 s with
# these settings, which keep freed memory). Both timings are reported: "seconds" with the default
# allocator, "steady_seconds" with these (blank when the kept, fragmented memory exceeds the budget).
STEADY_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(2**35), "MALLOC_TRIM_THRESHOLD_": str(2**35)}
# Exact attention's cost grows with N^2 (PyTorch's CPU flash kernel keeps its memory linear, so
# time is its wall); linear mixers are projected with a margin above 1.
PROJECTION_EXPONENT = {"full": 2.0}
DEFAULT_PROJECTION_EXPONENT = 1.3


def run_scaling(mixers: Sequence[str], sizes: Sequence[int], memory_gib: float, repeats: int,
                timeout_s: float, quick: bool = False, device: str = "cpu") -> list[dict]:
    """One row per (mixer, size). A mixer stops at its first size that fails, or whose step time,
    projected from its previous size, exceeds ``timeout_s``. Each point is measured in its own
    process (two on CPU: the default and the steady allocator; the allocator setting does not apply
    to CUDA). ``quick`` measures every point in this process, without the memory cap and the
    steady rerun (a failure raises; memory the allocator kept from earlier points lowers later
    peaks): a smoke test, spared a torch + PyG start-up per point."""
    env, rows = environment(device), []
    with tqdm(total=len(mixers) * len(sizes), desc="scaling", unit="run") as progress:
        for mixer in mixers:
            blocked, previous = "", None
            for nodes in sorted(sizes):
                progress.set_postfix_str(f"{mixer} N={nodes:,}")
                row = {"suite": "scaling", "mixer": mixer, "nodes": nodes, **env}
                projected = projected_seconds(mixer, previous, nodes)
                if not blocked and projected > timeout_s:
                    kind = "full attention" if mixer == "full" else mixer
                    blocked = f"too large for {kind}: ~{projected:,.0f} s per step projected (limit {timeout_s:g} s)"
                if blocked:
                    row["status"] = blocked
                else:
                    row.update(_measure_here(mixer, nodes, repeats, device) if quick
                               else _measure(mixer, nodes, memory_gib, repeats, timeout_s, device) if device == "cpu"
                               else _run_worker(mixer, nodes, memory_gib, repeats, timeout_s, {}, device))
                    if row["status"] == "ok":
                        previous = row
                    else:
                        blocked = f"skipped: smaller size {row['status']}"
                rows.append(row)
                progress.update()
    return rows


def projected_seconds(mixer: str, previous: dict | None, nodes: int) -> float:
    """Step time at ``nodes`` extrapolated from the previous measurement (0 when there is none)."""
    if previous is None:
        return 0.0
    exponent = PROJECTION_EXPONENT.get(mixer, DEFAULT_PROJECTION_EXPONENT)
    return previous["seconds"] * (nodes / previous["nodes"]) ** exponent


def _measure(mixer: str, nodes: int, memory_gib: float, repeats: int, timeout_s: float, device: str) -> dict:
    """Time and peak memory with the default allocator, then time again with ``STEADY_MALLOC``
    (its peak is not used: kept, fragmented memory inflates it)."""
    default = _run_worker(mixer, nodes, memory_gib, repeats, timeout_s, {}, device)
    if default["status"] != "ok":
        return default
    steady = _run_worker(mixer, nodes, memory_gib, repeats, timeout_s, STEADY_MALLOC, device)
    return {**default, "steady_seconds": steady["seconds"] if steady["status"] == "ok" else ""}


def _measure_here(mixer: str, nodes: int, repeats: int, device: str) -> dict:
    """The worker's measurement (:func:`~graphformers.benchmarks.scaling_worker.measure`), in this process.

    Args:
        mixer (str): the mixer's registered name.
        nodes (int): nodes of the synthetic graph.
        repeats (int): timed steps after the warm-up.
        device (str): ``cpu`` or ``cuda``.
    """
    import torch

    from graphformers.benchmarks.scaling_worker import measure

    return {**measure(mixer, nodes, repeats, torch.device(device)), "status": "ok"}


def _run_worker(mixer: str, nodes: int, memory_gib: float, repeats: int, timeout_s: float,
                malloc_env: dict[str, str], device: str) -> dict:
    command = [sys.executable, "-m", "graphformers.benchmarks.scaling_worker", mixer, str(nodes),
               "--repeats", str(repeats), "--memory-gib", str(memory_gib), "--device", device]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s * (repeats + 2),
                              env={**os.environ, **malloc_env})
    except subprocess.TimeoutExpired:
        return {"status": f"timed out after {timeout_s:g} s"}
    if done.returncode != 0:
        out_of_memory = any(text in done.stderr for text in ("MemoryError", "DefaultCPUAllocator", "out of memory"))
        reason = f"out of memory (budget {memory_gib:g} GiB)" if out_of_memory else done.stderr.strip().splitlines()[-1]
        return {"status": reason}
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "status": "ok"}


def fitted_exponent(rows: Sequence[dict], mixer: str, column: str) -> float:
    """Least-squares slope of log(column) against log(nodes) over this mixer's ok rows with N >= 10^4
    (all ok rows when fewer than two are that large); NaN when fewer than two points."""
    points = [(r["nodes"], r[column]) for r in rows
              if r["mixer"] == mixer and r["status"] == "ok" and r.get(column) not in (None, "")]
    large = [p for p in points if p[0] >= FIT_FROM_NODES]
    points = large if len(large) >= 2 else points
    if len(points) < 2:
        return math.nan
    nodes, values = np.log([p[0] for p in points]), np.log([max(p[1], 1e-9) for p in points])
    return float(np.polyfit(nodes, values, 1)[0])


def markdown_table(rows: Sequence[dict]) -> str:
    """Seconds / peak MiB per mixer and size, with the fitted exponents."""
    sizes = sorted({r["nodes"] for r in rows})
    mixers = list(dict.fromkeys(r["mixer"] for r in rows))
    header = ["mixer", *(f"N={n:,}" for n in sizes), "time exponent", "steady time exponent", "memory exponent"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for mixer in mixers:
        cells = []
        for n in sizes:
            row = next(r for r in rows if r["mixer"] == mixer and r["nodes"] == n)
            steady = f" ({row['steady_seconds']:.3g} s steady)" if row.get("steady_seconds") not in (None, "") else ""
            cells.append(f"{row['seconds']:.3g} s{steady} / {row['peak_mib']:,.0f} MiB" if row["status"] == "ok"
                         else row["status"])
        exponents = [fitted_exponent(rows, mixer, c) for c in ("seconds", "steady_seconds", "peak_mib")]
        lines.append("| " + " | ".join([mixer, *cells, *(f"{e:.2f}" for e in exponents)]) + " |")
    return "\n".join(lines)
