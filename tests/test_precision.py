"""Every registered part trains under each precision Lightning offers on the CPU, close to float32;
precisions a device cannot run, and kernels without a deterministic implementation, are refused
with one ``error:`` line."""
from __future__ import annotations

import contextlib
import dataclasses
import warnings

import pytest
import pytorch_lightning as pl
import torch
from helpers.paths import QUICKSTART
from helpers.runs import small_quickstart
from torch_geometric.data import Batch

from graphformers.benchmarks.parts_check import AUTOCAST, case_task, encoded_batch, part_cases, small_model
from graphformers.cli import main as cli
from graphformers.data.datamodule import GraphDataModule
from graphformers.models.gps import GPSModel
from graphformers.recipe import RecipeError, load_recipe
from graphformers.registry import LOCAL_BLOCKS, MIXERS, MODELS, PAIR_ENCODINGS, POSITIONAL_ENCODERS
from graphformers.task import TaskInfo
from graphformers.training import hardware
from graphformers.training.module import GraphTask
from graphformers.training.objectives import objective_for
from graphformers.training.runner import run

SMALL = small_quickstart(32, 16, 16, "train.max_epochs=1")

TOLERANCE = {"bf16-mixed": 5e-2, "16-mixed": 1e-2, "64-true": 1e-4}
"""Largest difference from the float32 output on the same weights and batch, relative to that output's
largest magnitude: bfloat16 keeps 8 significant bits (2^-8 = 4e-3 per rounding), float16 11, and a
two-layer model rounds a few dozen times along each path."""


CASES = part_cases()


def test_the_cases_cover_every_registered_part():
    specs = [spec for case in CASES.values() for key in ("local", "mixer") if (spec := case.get(key)) is not None]
    assert {case["name"] for case in CASES.values()} == set(MODELS.names())
    assert set(LOCAL_BLOCKS.names()) | set(MIXERS.names()) <= {spec.name for spec in specs}
    assert {spec.name for case in CASES.values() for spec in case.get("encoders",
                                                                      [])} == set(POSITIONAL_ENCODERS.names())
    assert {spec.name for case in CASES.values() for spec in case.get("pair_encodings",
                                                                      [])} == set(PAIR_ENCODINGS.names())


def _model_and_batch(case: dict) -> tuple[torch.nn.Module, Batch, TaskInfo]:
    info, graphs = case_task(case)
    model = small_model(case, info)
    return model, encoded_batch(model, graphs), info


def _in_precision(model: torch.nn.Module, batch: Batch, precision: str):
    """What Lightning does for ``precision``: float64 weights and features, or autocast. float16 autocast
    runs on the CPU here (Lightning runs 16-mixed on GPUs only) to check the parts' float16 paths."""
    if precision == "64-true":
        model.double()
        for key, value in batch.items():
            if isinstance(value, torch.Tensor) and value.is_floating_point():
                batch[key] = value.double()
        return contextlib.nullcontext()
    return torch.autocast("cpu", dtype=AUTOCAST[precision])


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed", "64-true"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_training_step_is_finite_and_the_output_close_to_float32(case, precision):
    model, batch, info = _model_and_batch(CASES[case])
    with torch.no_grad():
        reference = model.eval()(batch.clone())
    precise = _in_precision(model, batch, precision)
    with torch.no_grad(), precise:
        output = model.eval()(batch.clone())
    scale = reference.abs().max()
    assert (output.double() - reference.double()).abs().max() <= TOLERANCE[precision] * scale

    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    with precise:
        prediction = model(batch.clone())
    loss = objective_for(info).loss(prediction.float() if precision in AUTOCAST else prediction, batch.y)
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    trained = [p for p in model.parameters() if p.grad is not None]
    assert trained and all(torch.isfinite(p.grad).all() and torch.isfinite(p).all() for p in trained)


@pytest.mark.parametrize("precision", ["bf16-mixed", "64-true", "bf16-true"])
def test_a_lightning_run_trains_and_reports_float32_metrics_in_each_precision(tmp_path, precision):
    seen = {}

    class Watch(pl.Callback):
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            seen["loss"] = outputs["loss"].dtype
            seen["weights"] = next(module.parameters()).dtype

    result = run(load_recipe(QUICKSTART, [*SMALL, f"train.precision={precision}", f"train.out_dir={tmp_path}"]),
                 callbacks=[Watch()])
    assert 0.0 <= result.test_value <= 1.0
    weights = {"64-true": torch.float64, "bf16-true": torch.bfloat16}.get(precision, torch.float32)
    assert seen["weights"] == weights
    assert seen["loss"] == (torch.float64 if precision == "64-true" else torch.float32)


def test_16_true_is_refused_with_the_reason_and_the_alternative(capsys, tmp_path):
    assert cli(["train", QUICKSTART, "train.precision=16-true", f"train.out_dir={tmp_path}"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: train.precision: 16-true") and "use 16-mixed" in error.lower()
    assert len(error.splitlines()) == 1 and not any(tmp_path.iterdir())


def test_float16_on_the_cpu_is_refused_not_switched_to_bfloat16_silently():
    with pytest.raises(RecipeError, match="16-mixed runs on GPUs only: .* Use bf16-mixed on the CPU"):
        hardware.check_precision(load_recipe(QUICKSTART, ["train.precision=16-mixed"]).train, "cpu")
    hardware.check_precision(load_recipe(QUICKSTART, ["train.precision=16-mixed"]).train, "cuda")


def test_bfloat16_on_a_gpu_without_it_and_float64_on_mps_are_refused(monkeypatch):
    recipe = load_recipe(QUICKSTART, ["train.precision=bf16-mixed"])
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *args: "Tesla T4")
    with pytest.raises(RecipeError, match=r"bf16-mixed needs bfloat16 .* \(Tesla T4\) .* Use 16-mixed"):
        hardware.check_precision(recipe.train, "cuda")
    hardware.check_precision(recipe.train, "cpu")
    with pytest.raises(RecipeError, match="MPS devices have no float64"):
        hardware.check_precision(load_recipe(QUICKSTART, ["train.precision=64-true"]).train, "mps")


@pytest.mark.parametrize("precision", ["bf16-mixed", "bf16-true"])
def test_bfloat16_on_a_cpu_without_onednns_bfloat16_kernels_warns_naming_the_cpu_and_float32(monkeypatch, precision):
    train = load_recipe(QUICKSTART, [f"train.precision={precision}"]).train
    monkeypatch.setattr(hardware, "cpu_has_bfloat16_kernels", lambda: False)
    monkeypatch.setattr(hardware, "cpu_description", lambda: "AMD EPYC, AVX2")
    with pytest.warns(hardware.SlowPrecisionWarning, match=rf"{precision} on this CPU \(AMD EPYC, AVX2\) .* use "
                                                           r"train.precision=32-true here"):
        hardware.check_precision(train, "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hardware.check_precision(load_recipe(QUICKSTART, []).train, "cpu")  # float32: nothing to say
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
        hardware.check_precision(train, "cuda")  # a GPU's bfloat16 is checked on its own
        monkeypatch.setattr(hardware, "cpu_has_bfloat16_kernels", lambda: True)
        hardware.check_precision(train, "cpu")


def test_deterministic_defaults_to_true_on_cpu_and_warn_on_gpus_and_takes_lightnings_values():
    default = load_recipe(QUICKSTART, []).train
    assert hardware.resolved_deterministic(default, "cpu") is True
    assert hardware.resolved_deterministic(default, "cuda") == "warn"
    for value, expected in (("false", False), ("warn", "warn"), ("true", True)):
        chosen = load_recipe(QUICKSTART, [f"train.deterministic={value}"]).train
        assert hardware.resolved_deterministic(chosen, "cuda") == expected
    with pytest.raises(RecipeError, match="train.deterministic.* must be bool or 'warn' or null"):
        load_recipe(QUICKSTART, ["train.deterministic=always"])


@pytest.mark.parametrize("value,enabled,warn_only", [("true", True, False), ("warn", True, True),
                                                     ("false", False, False)])
def test_the_trainer_runs_with_the_chosen_determinism(tmp_path, value, enabled, warn_only):
    seen = {}

    class Watch(pl.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            seen["flags"] = (torch.are_deterministic_algorithms_enabled(),
                             torch.is_deterministic_algorithms_warn_only_enabled())
            seen["fills"] = torch.utils.deterministic.fill_uninitialized_memory

    try:
        run(load_recipe(QUICKSTART, [*SMALL, "train.limit_batches=1", f"train.deterministic={value}",
                                     f"train.out_dir={tmp_path}"]), callbacks=[Watch()])
    finally:
        torch.use_deterministic_algorithms(False)
        torch.utils.deterministic.fill_uninitialized_memory = True
    assert seen["flags"] == (enabled, warn_only)
    assert seen["fills"] is False  # no NaN pass over every new tensor (hardware.skip_uninitialized_fill)


def test_an_operator_without_a_deterministic_kernel_names_the_switch(capsys, tmp_path, monkeypatch):
    forward = GPSModel.forward

    def with_a_nondeterministic_operator(self, data, chunk=None):
        # PyTorch's alert (at::globalContext().alertNotDeterministic) raises this from such a kernel; no CPU
        # kernel graphformers uses lacks a deterministic implementation, so it is raised here as PyTorch words it
        if torch.are_deterministic_algorithms_enabled() and not torch.is_deterministic_algorithms_warn_only_enabled():
            raise RuntimeError("scatter_add_cuda_kernel does not have a deterministic implementation, but you set "
                               "'torch.use_deterministic_algorithms(True)'. You can turn off determinism just for "
                               "this operation, or you can use the 'warn_only=True' option, if that's acceptable "
                               "for your application.")
        return forward(self, data, chunk)

    monkeypatch.setattr(GPSModel, "forward", with_a_nondeterministic_operator)
    try:
        assert cli(["train", QUICKSTART, *SMALL, f"train.out_dir={tmp_path}"]) == 2
    finally:
        torch.use_deterministic_algorithms(False)
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1, error
    assert error[0].startswith("error: scatter_add_cuda_kernel has no deterministic implementation")
    assert "train.deterministic: warn" in error[0]


@pytest.mark.parametrize("precision,fused", [("32-true", True), ("64-true", True), ("bf16-mixed", None)])
def test_the_optimizer_is_fused_except_under_mixed_precision_whose_clipping_lightning_does(precision, fused):
    recipe = load_recipe(QUICKSTART, [*SMALL, f"train.precision={precision}"])
    task = GraphTask(recipe.to_dict(), dataclasses.asdict(GraphDataModule(recipe.data).info))
    optimizer = task.configure_optimizers()["optimizer"]
    assert optimizer.defaults["fused"] is fused


@pytest.mark.slow
def test_compiled_grit_layers_keep_their_output_and_state_dict_keys():
    case = CASES["grit-rrwp"]
    model, batch, _ = _model_and_batch(case)
    model.eval()
    keys = list(model.state_dict())
    with torch.no_grad():
        eager = model(batch.clone())
    model.compile_for_training()
    with torch.no_grad():
        compiled = model(batch.clone())
    assert list(model.state_dict()) == keys
    torch.testing.assert_close(compiled, eager, atol=1e-5, rtol=1e-4)


def test_compiling_gps_is_refused_with_what_was_measured(capsys, tmp_path):
    assert cli(["train", QUICKSTART, *SMALL, "train.compile=true", f"train.out_dir={tmp_path}"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "train.compile: gps is not compiled" in error[0] and "2x slower" in error[0]


def test_compiling_without_a_cpp_compiler_names_what_is_missing(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(hardware.shutil, "which", lambda name: None)
    assert cli(["train", QUICKSTART, *SMALL, "train.compile=true", f"train.out_dir={tmp_path}"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: train.compile: torch.compile builds C++ kernels") and "apt install g++" in error
    assert not any(tmp_path.iterdir())
