"""Every registered part, built small, trained for a few steps on a device in a precision, and its
output compared with float32 on the CPU on the same weights and batch.

The cases: each registered model; each local block and each mixer inside GPS; each positional
encoder and each pair encoding (as Graphormer's bias in GPS and as GRIT's pair states). The
``device`` suite runs them on a GPU; the precision tests run the same cases on the CPU.
"""
from __future__ import annotations

import contextlib
import time
from typing import Any

import torch
from torch_geometric.data import Batch, Data

from graphformers.benchmarks.graphs import generated_graphs
from graphformers.benchmarks.memory import synchronize
from graphformers.benchmarks.model import GENERATED
from graphformers.models.base import GraphModel
from graphformers.models.parts import mixer_companions
from graphformers.pair_encodings.base import PairEncoding
from graphformers.pair_encodings.precompute import encode_pairs
from graphformers.recipe import ModelConfig, PartSpec
from graphformers.registry import LOCAL_BLOCKS, MIXERS, MODELS, PAIR_ENCODINGS, POSITIONAL_ENCODERS
from graphformers.task import TaskInfo
from graphformers.training.objectives import objective_for

AUTOCAST = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}
"""Lightning's mixed precisions: autocast to this type, weights kept in float32."""
PRECISIONS = ("32-true", "bf16-mixed", "16-mixed")
COLUMNS = ["suite", "case", "precision", "device", "max_difference", "first_loss", "last_loss", "seconds_per_step",
           "status"]


NODE_LEVEL = ("gat", "polynormer", "sgformer")
"""Models that predict nodes only; every other case is checked on a graph-level task."""
SETTINGS = {"hidden": 16, "layers": 2, "heads": 4, "dropout": 0.1, "attn_dropout": 0.2}
"""The model settings of every case, where its model reads them (dropout, so training steps draw masks)."""
NODE_TASK = TaskInfo(level="node", task="multiclass", num_outputs=3, metric="accuracy", node_encoder="linear",
                     node_in=5, edge_encoder="linear", edge_in=3)


def part_cases() -> dict[str, dict[str, Any]]:
    """``{case name: ModelConfig keyword arguments}`` covering every registered part."""
    cases: dict[str, dict[str, Any]] = {}
    for local in LOCAL_BLOCKS.names():
        cases[f"gps-{local}-full"] = dict(name="gps", local=PartSpec(local), mixer=PartSpec("full"))
    for mixer in MIXERS.names():
        cases[f"gps-gine-{mixer}"] = dict(name="gps", local=PartSpec("gine"), mixer=PartSpec(mixer),
                                          **mixer_companions(mixer))
    for encoder in POSITIONAL_ENCODERS.names():
        cases[f"gps-{encoder}"] = dict(name="gps", encoders=[PartSpec(encoder, {"dim": 4})])
    for encoding in PAIR_ENCODINGS.names():
        cases[f"gps-full-bias-{encoding}"] = dict(name="gps", mixer=PartSpec("full", {"bias": encoding}),
                                                  pair_encodings=[PartSpec(encoding)])
        cases[f"grit-{encoding}"] = dict(name="grit", local=None, mixer=None, pair_encodings=[PartSpec(encoding)],
                                         options={"pair_encoding": encoding})
    cases["mpnn"] = dict(name="mpnn", local=PartSpec("gine"))
    cases["gat"] = dict(name="gat", local=None, mixer=None)
    cases["polynormer"] = dict(name="polynormer", local=None, mixer=None,
                               options={"local_layers": 1, "global_layers": 1})
    cases["sgformer"] = dict(name="sgformer", local=None, mixer=None)
    return cases


def case_task(case: dict[str, Any], count: int = 6, seed: int = 0) -> tuple[TaskInfo, list[Data]]:
    """Molecule-sized graphs (:func:`~graphformers.benchmarks.graphs.generated_graphs`) and their task:
    OGB atom and bond features and 10 graph labels, or for node-level models float features and 3
    classes per node."""
    graphs = generated_graphs(count, seed)
    if case["name"] not in NODE_LEVEL:
        return GENERATED, graphs
    generator = torch.Generator().manual_seed(seed)
    for graph in graphs:
        graph.x = torch.randn(graph.num_nodes, NODE_TASK.node_in, generator=generator)
        graph.edge_attr = torch.randn(graph.num_edges, NODE_TASK.edge_in, generator=generator)
        graph.y = torch.randint(0, NODE_TASK.num_outputs, (graph.num_nodes,), generator=generator)
    return NODE_TASK, graphs


def small_model(case: dict[str, Any], info: TaskInfo, seed: int = 0) -> GraphModel:
    """The case's model at hidden 16, 2 layers, 4 heads, with dropout (so training steps draw masks)."""
    torch.manual_seed(seed)
    model_type = MODELS.get(case["name"])
    settings = {key: value for key, value in SETTINGS.items() if key in model_type.reads}
    return model_type(ModelConfig(**settings, **case), info)


def encoded_batch(model: GraphModel, graphs: list[Data]) -> Batch:
    """``graphs`` with everything ``model`` precomputes (node encodings, pair encodings), as one batch."""
    transforms = model.precompute_transforms()
    for transform in transforms:
        if not isinstance(transform, PairEncoding):
            graphs = [transform(graph) for graph in graphs]
    encode_pairs(graphs, [transform for transform in transforms if isinstance(transform, PairEncoding)])
    return Batch.from_data_list(graphs)


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Autocast for a mixed ``precision``, nothing for ``32-true``."""
    if precision in AUTOCAST:
        return torch.autocast(device.type, dtype=AUTOCAST[precision])
    return contextlib.nullcontext()


def check_part(name: str, case: dict[str, Any], precision: str, device: torch.device, steps: int = 3) -> dict:
    """One row: the largest difference of the evaluation output from float32 on the CPU (relative to
    that output's largest magnitude), and ``steps`` training steps (AdamW) on ``device`` in ``precision``.

    Args:
        name (str): the case's name.
        case (dict): its ``ModelConfig`` keyword arguments (:func:`part_cases`); its graphs and task
            come from :func:`case_task`.
        precision (str): ``32-true`` or a mixed precision (:data:`AUTOCAST`).
        device (torch.device): where it runs.
        steps (int): training steps.
    """
    row = {"suite": "parts", "case": name, "precision": precision, "device": str(device)}
    info, graphs = case_task(case)
    model = small_model(case, info)
    batch = encoded_batch(model, graphs)
    with torch.no_grad():
        reference = model.eval()(batch.clone())
    model, placed = model.to(device), batch.to(device)
    with torch.no_grad(), autocast(precision, device):
        output = model(placed.clone())
    row["max_difference"] = float((output.float().cpu() - reference).abs().max() / reference.abs().max())
    loss_of, losses = objective_for(info).loss, []
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        with autocast(precision, device):
            prediction = model(placed.clone())
        loss = loss_of(prediction.float(), placed.y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    synchronize(device)
    row["seconds_per_step"] = (time.perf_counter() - start) / steps
    row["first_loss"], row["last_loss"] = float(losses[0]), float(losses[-1])
    finite = all(torch.isfinite(loss) for loss in losses)
    row["status"] = "ok" if finite else "failed: a non-finite loss"
    return row
