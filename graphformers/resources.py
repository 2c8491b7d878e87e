"""What this machine offers a run and where its files live: memory, the data root, installed
optional packages and the environment a measurement records. A leaf: the recipe checks, the
pre-flight, the datasets, training and the benchmarks all read it."""
from __future__ import annotations

import importlib.util
import os
import platform
import subprocess
from pathlib import Path

from graphformers.errors import GraphformersError

DATA_ROOT_VARIABLE = "GRAPHFORMERS_DATA"
DEFAULT_DATA_ROOT = Path("datasets")

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


LOGGER_PACKAGES = {"tensorboard": ("tensorboard", "tensorboardX"), "wandb": ("wandb",), "mlflow": ("mlflow",)}
"""Each optional logger, and the packages of which one must be installed (``pip install 'graphformers[<logger>]'``)."""


def missing_logger_package(name: str) -> str:
    """A one-line reason logger ``name`` cannot run here ("" if it can)."""
    if name == "csv" or any(importlib.util.find_spec(package) for package in LOGGER_PACKAGES[name]):
        return ""
    return (f"train.loggers: {name} needs the {' or '.join(LOGGER_PACKAGES[name])} package, which is not installed; "
            f"pip install 'graphformers[{name}]'.")


class DataRootError(GraphformersError, NotADirectoryError):
    """A data root that is not a folder."""


def data_root(root: str | None = None) -> Path:
    """The data root: ``root`` (a recipe's ``data.root``) if set, else ``$GRAPHFORMERS_DATA``, else
    ``./datasets``; the one place this rule lives. Raises :class:`DataRootError` if it names a file.

    Args:
        root (str, optional): an explicit data root.
    """
    chosen = Path(root or os.environ.get(DATA_ROOT_VARIABLE) or DEFAULT_DATA_ROOT)
    if chosen.exists() and not chosen.is_dir():
        where = ("data.root" if root else f"${DATA_ROOT_VARIABLE}" if os.environ.get(DATA_ROOT_VARIABLE)
                 else "the data root")
        raise DataRootError(f"{where} {str(chosen)!r} is a file, not a folder; set data.root (or "
                            f"${DATA_ROOT_VARIABLE}) to a folder (it is created if missing).")
    return chosen


def environment(device: str = "cpu") -> dict[str, str]:
    """The device measured on, library versions, threads and git commit, for every CSV row."""
    import torch  # here, not at the top: the command line's parsers (``--help``) read this module
    import torch_geometric

    return {
        "device": (torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda")
                   else f"cpu ({cpu_description()})"),
        "torch": torch.__version__,
        "pyg": torch_geometric.__version__,
        "threads": str(torch.get_num_threads()),
        "commit": _git_commit(),
    }


def cpu_description() -> str:
    """The CPU's model and the widest vector instructions torch's kernels use on it, with Intel's matrix units
    where it has them: ``"AMD EPYC, AVX2"``, ``"Intel(R) Xeon(R) Platinum 8480+, AVX512, AMX"``. Speed on the
    CPU depends on both: bfloat16 above all (:func:`graphformers.training.hardware.check_precision`)."""
    import torch

    features = [torch.backends.cpu.get_cpu_capability()]
    if torch.cpu._is_amx_tile_supported():
        features.append("AMX")
    return ", ".join([_cpu_model() or platform.processor() or platform.machine(), *features])


def _cpu_model() -> str:
    """Linux's name for the CPU (``/proc/cpuinfo``); empty elsewhere."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
