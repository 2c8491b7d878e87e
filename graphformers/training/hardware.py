"""What the chosen device can run: precision and determinism, decided before anything is built.

``train.precision`` and ``train.deterministic`` go to Lightning as they are; this module refuses
the values that cannot work on the device the run will use (with the reason and what to use
instead), resolves the default of ``train.deterministic`` per device, and turns PyTorch's error
for an operator without a deterministic kernel into one that names the switch.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import warnings

import torch
from pytorch_lightning.accelerators import CUDAAccelerator, MPSAccelerator

from graphformers.errors import GraphformersError
from graphformers.recipe import RecipeError, TrainConfig
from graphformers.resources import cpu_description, environment

Deterministic = bool | str

_NO_DETERMINISTIC_KERNEL = re.compile(r"^(\S+) does not have a deterministic implementation")


class NondeterministicOperatorError(GraphformersError, RuntimeError):
    """An operator without a deterministic kernel ran under ``train.deterministic: true``."""


class SlowPrecisionWarning(UserWarning):
    """``train.precision`` trains on this device, but far slower than ``32-true``."""


def cpu_has_bfloat16_kernels() -> bool:
    """Whether torch multiplies bfloat16 matrices on this CPU with oneDNN's kernels (x86 CPUs with AVX-512, fastest
    with AMX; Arm CPUs with bfloat16 instructions). Elsewhere (AVX2 only) torch's generic fallback kernels do it:
    on one AVX2 machine a GraphGPS training step on ogbg-molhiv's molecules took 4.8x as long in bf16-mixed as in
    32-true (docs/training.md, with the command)."""
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def device_type(accelerator: str) -> str:
    """The kind of device ``train.accelerator`` resolves to (``cpu``, ``cuda`` or ``mps``), as Lightning resolves it."""
    if accelerator in ("gpu", "cuda"):
        return "cuda" if accelerator == "cuda" or not MPSAccelerator.is_available() else "mps"
    if accelerator == "auto":
        if CUDAAccelerator.is_available():
            return "cuda"
        return "mps" if MPSAccelerator.is_available() else "cpu"
    return accelerator


def describe_device(accelerator: str) -> str:
    """Where a run with this ``train.accelerator`` trains, as the reproduction table's hardware column names it:
    the GPU's name, or the CPU (model, instructions) and its threads; with the torch version."""
    gpu = torch.cuda.is_available() and accelerator in ("auto", "gpu", "cuda")
    described = environment("cuda" if gpu else "cpu")
    threads = int(described["threads"])
    device = described["device"] if gpu else f"{described['device']}, {threads} thread{'s' if threads > 1 else ''}"
    return f"{device}, torch {described['torch']}"


def check_precision(train: TrainConfig, device: str) -> None:
    """Refuse a ``train.precision`` that cannot train on ``device``; warn (:class:`SlowPrecisionWarning`) where
    it trains far slower than ``32-true`` (bfloat16 on a CPU without :func:`cpu_has_bfloat16_kernels`).

    Args:
        train (TrainConfig): the recipe's ``train`` section.
        device (str): :func:`device_type` of its accelerator.
    """
    precision = train.precision
    if precision == "16-true":
        raise RecipeError(
            "train.precision: 16-true keeps the weights and the optimizer's state in float16, where Adam's epsilon "
            "(1e-8) rounds to 0 and small updates vanish, so the loss soon becomes NaN. Use 16-mixed (float16 "
            "compute, float32 weights) or bf16-mixed.")
    if precision == "16-mixed" and device == "cpu":
        raise RecipeError("train.precision: 16-mixed runs on GPUs only: on the CPU Lightning would switch to "
                          "bf16-mixed without asking. Use bf16-mixed on the CPU (fast where it has bfloat16 matrix "
                          "units: Intel AMX, Sapphire Rapids and newer), or 32-true.")
    if precision.startswith("bf16") and device == "cuda" and not torch.cuda.is_bf16_supported():
        name = torch.cuda.get_device_name()
        raise RecipeError(f"train.precision: {precision} needs bfloat16 arithmetic, which this GPU ({name}) lacks "
                          f"(bfloat16 needs compute capability 8.0, Ampere, or newer). Use 16-mixed or 32-true.")
    if precision.startswith("bf16") and device == "cpu" and not cpu_has_bfloat16_kernels():
        warnings.warn(SlowPrecisionWarning(
            f"train.precision: {precision} on this CPU ({cpu_description()}) multiplies bfloat16 matrices with torch's "
            "generic fallback kernels (oneDNN's bfloat16 kernels need AVX-512 or Arm's bfloat16 instructions), "
            "many times slower than float32: use train.precision=32-true here."), stacklevel=2)
    if precision == "64-true" and device == "mps":
        raise RecipeError("train.precision: 64-true: Apple's MPS devices have no float64. Use 32-true there, or "
                          "train.accelerator: cpu.")


def check_compiler(device: str) -> None:
    """Refuse ``train.compile`` where ``torch.compile``'s backend cannot build kernels: no C++ compiler
    for the CPU, no Triton for a GPU.

    Args:
        device (str): :func:`device_type` of the run's accelerator.
    """
    if device == "cpu" and not (os.environ.get("CXX") or any(shutil.which(name) for name in ("g++", "c++", "clang++"))):
        raise RecipeError("train.compile: torch.compile builds C++ kernels for the CPU, and no C++ compiler was found "
                          "(g++, c++, clang++ or $CXX); install one (Debian/Ubuntu: apt install g++) or set "
                          "train.compile: false.")
    if device == "cuda" and importlib.util.find_spec("triton") is None:
        raise RecipeError("train.compile: torch.compile builds GPU kernels with Triton, which is not installed; "
                          "pip install triton, or set train.compile: false.")


def resolved_deterministic(train: TrainConfig, device: str) -> Deterministic:
    """``train.deterministic``, its default resolved: ``True`` on the CPU (where every kernel graphformers
    uses is deterministic and costs nothing more), ``"warn"`` on accelerators.

    Args:
        train (TrainConfig): the recipe's ``train`` section.
        device (str): :func:`device_type` of its accelerator.
    """
    if train.deterministic is not None:
        return train.deterministic
    return True if device == "cpu" else "warn"


def skip_uninitialized_fill() -> None:
    """Stop PyTorch filling every new tensor with NaN under deterministic algorithms
    (``torch.utils.deterministic.fill_uninitialized_memory``, on by default with them).

    The fill guards against kernels that read memory they never wrote; PyTorch's own kernels do not,
    and the fill is a pass over every tensor allocated: 4.6 of 64 ms (``aten::fill_``) of a
    one-thread training step of recipes/ogbg-molhiv-gcn.yaml under torch.profiler. Results stay
    bit-identical (the determinism and exact-resume tests run with it off).
    """
    torch.utils.deterministic.fill_uninitialized_memory = False


def nondeterministic_operator(error: RuntimeError) -> NondeterministicOperatorError | None:
    """The error to raise instead of PyTorch's for an operator without a deterministic kernel, or None."""
    match = _NO_DETERMINISTIC_KERNEL.match(str(error).strip())
    if match is None:
        return None
    return NondeterministicOperatorError(
        f"{match.group(1)} has no deterministic implementation on this device, and train.deterministic is true. "
        f"Set train.deterministic: warn to run it anyway (runs with one seed then differ in the last bits, and "
        f"--resume is no longer bit-exact), or change the part that uses it.")
