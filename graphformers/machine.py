"""What this machine offers a run, read where the recipe checks and the pre-flight both need it
(below both: the recipe's checks must not import the training layer)."""
from __future__ import annotations

import os
from pathlib import Path

MEMORY_SHARE = 0.5
"""The share of the machine's memory that one thing held for the whole run may take: the positional
and pair encodings together (the precompute needs about as much again while it works), or a model's
weights with their gradients and optimizer state (activations need room beside them)."""


def machine_memory_bytes() -> int:
    """Memory this process may use: the machine's (POSIX ``sysconf``; 16 GiB where it cannot be read),
    or a container's cgroup limit where that is lower."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        physical = 16 << 30
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return physical
    return min(physical, int(limit)) if limit.isdigit() else physical
