"""Memory and timing helpers shared by the benchmark workers: the process's resident and peak memory
on CPU (``/proc/self/status``), allocated and peak memory on CUDA, and device synchronisation."""
from __future__ import annotations

import torch


def _status_mib(field: str) -> float:
    """A memory field of ``/proc/self/status`` (``VmRSS``: resident now, ``VmHWM``: peak) in MiB."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return int(fields[field].split()[0]) / 1024


def resident_mib(device: torch.device) -> float:
    """Memory in use now: resident set on CPU, allocated tensors on CUDA."""
    if device.type == "cuda":
        return torch.cuda.memory_allocated(device) / 2**20
    return _status_mib("VmRSS")


def peak_mib(device: torch.device) -> float:
    """The peak of :func:`resident_mib` since the last :func:`reset_peak`."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return _status_mib("VmHWM")


def reset_peak(device: torch.device) -> None:
    """Start a new peak: CUDA's peak statistics, or the kernel's high-water mark (``clear_refs`` 5)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    else:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock timings include it (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
