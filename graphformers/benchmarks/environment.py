"""What a benchmark row records about where it ran."""
from __future__ import annotations

import platform
import subprocess
from pathlib import Path

import torch
import torch_geometric


def environment(device: str = "cpu") -> dict[str, str]:
    """The device measured on, library versions, threads and git commit, for every CSV row."""
    return {
        "device": (torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda")
                   else f"cpu ({platform.processor() or platform.machine()})"),
        "torch": torch.__version__,
        "pyg": torch_geometric.__version__,
        "threads": str(torch.get_num_threads()),
        "commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
