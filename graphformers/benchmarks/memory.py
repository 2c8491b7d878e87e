"""Memory and timing helpers shared by the benchmark workers: the process's peak resident memory on CPU
(``/proc/self/status``), peak allocated memory on CUDA, and device synchronisation."""
from __future__ import annotations

import torch


def _high_water_mib() -> float:
    """The process's peak resident memory (``VmHWM`` of ``/proc/self/status``) in MiB."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return int(fields["VmHWM"].split()[0]) / 1024


def peak_mib(device: torch.device) -> float:
    """The peak memory in use since the last :func:`reset_peak`: resident set on CPU, allocated tensors on CUDA."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return _high_water_mib()


def reset_peak(device: torch.device) -> float:
    """Start a new peak (CUDA's peak statistics, or the kernel's high-water mark: ``clear_refs`` 5) and return
    where it starts, the memory in use at the reset, read from the same high-water mark :func:`added_mib` reads
    (the resident set read before the reset could be above it, when the process freed memory in between)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    else:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    return peak_mib(device)


def added_mib(start: float, device: torch.device) -> float:
    """The memory the work since :func:`reset_peak` (which returned ``start``) added at its peak, in MiB.

    At least 0: on the CPU the kernel sums its resident-set counters from per-CPU batches, so two reads of
    an unchanged high-water mark can differ by a few pages (one CI run read 0.125 MiB below the start)."""
    return max(0.0, peak_mib(device) - start)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock timings include it (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
