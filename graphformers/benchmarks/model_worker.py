"""One training-throughput measurement in its own process:
``python -m graphformers.benchmarks.model_worker {ours,pyg} MIXER BATCHES.pt``.

Builds our GPS model or the reference built from PyG's ``GPSConv`` (same hidden size, layers,
heads, GINE local block, mixer, feature encoders and head), then trains on the saved batches:
one warm-up pass over the first two, then ``passes`` timed passes over all of them (forward,
loss, backward, AdamW step). Prints one JSON line: seconds per pass (each), peak memory the
training added, parameter count. A process per measurement keeps each peak its own.
"""
from __future__ import annotations

import argparse
import json
import time

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GINEConv, GPSConv, global_mean_pool

from graphformers.benchmarks.memory import added_mib, reset_peak, synchronize
from graphformers.benchmarks.model import PYG_ATTENTION, WITHOUT_MIXER
from graphformers.benchmarks.parts_check import AUTOCAST, autocast
from graphformers.mixers.size_groups import plan_of
from graphformers.models.gps import GPSModel
from graphformers.models.parts import build_feature, mixer_companions
from graphformers.recipe import NO_PART, ModelConfig, PartSpec, is_absent
from graphformers.task import TaskInfo
from graphformers.training.objectives import objective_for


class PyGGPSReference(nn.Module):
    """The reference: PyG's ``GPSConv`` layers (GINE local block, batch norm, 2x MLP) between the
    same feature encoders and head as ours; attention over ``to_dense_batch``-padded graphs."""

    def __init__(self, config: ModelConfig, info: TaskInfo) -> None:
        super().__init__()
        hidden = config.hidden
        self.node_encoder = build_feature(info.node_encoder, info.node_in, hidden)
        self.edge_encoder = build_feature(info.edge_encoder, info.edge_in, hidden)
        self.layers = nn.ModuleList(
            GPSConv(hidden, GINEConv(nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)),
                                     train_eps=True),
                    heads=config.heads, dropout=config.dropout, attn_type=PYG_ATTENTION[config.mixer.name],
                    attn_kwargs=_attention_options(config))
            for _ in range(config.layers))
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, info.num_outputs))

    def forward(self, data: Batch) -> Tensor:
        x, edge_attr = self.node_encoder(data.x), self.edge_encoder(data.edge_attr)
        for layer in self.layers:
            x = layer(x, data.edge_index, data.batch, edge_attr=edge_attr)
        return self.head(global_mean_pool(x, data.batch, size=data.num_graphs))


def _attention_options(config: ModelConfig) -> dict:
    """PyG's attention at our width: its Performer defaults to 64 channels per head, ours uses
    ``hidden / heads`` (as its multihead attention does)."""
    if config.mixer.name == "performer":
        return {"dropout": config.attn_dropout, "head_channels": config.hidden // config.heads}
    return {"dropout": config.attn_dropout}


def build(implementation: str, config: ModelConfig, info: TaskInfo) -> nn.Module:
    """``ours`` (:class:`GPSModel`) or ``pyg`` (:class:`PyGGPSReference`) at the same configuration."""
    if implementation == "ours":
        return GPSModel(config, info)
    if is_absent(config.mixer):
        raise ValueError("PyG's GPSConv always has attention: only ours runs without a mixer")
    return PyGGPSReference(config, info)


def load_batches(path: str, device: torch.device) -> tuple[list[Batch], TaskInfo, dict]:
    """The saved batches (lists of per-graph tensor dicts), their task and the model settings.

    Each batch's size blocks are planned here, where it is collated, as a training run's loader
    plans them (:class:`~graphformers.mixers.size_groups.SizeBlockCollater`, in its workers), so
    the timed steps do what a training step does.
    """
    saved = torch.load(path, weights_only=True)
    batches = []
    for graphs in saved["batches"]:
        batch = Batch.from_data_list([Data(**graph) for graph in graphs])
        plan_of(batch)
        batches.append(batch.to(device))
    return batches, TaskInfo(**saved["info"]), saved["model"]


def measure(implementation: str, mixer: str, path: str, passes: int, device: torch.device,
            precision: str = "32-true") -> dict:
    """Seconds of each timed pass, peak MiB added by training, parameter count; ``precision`` is
    ``32-true`` or a mixed one (:data:`AUTOCAST`)."""
    batches, info, settings = load_batches(path, device)
    torch.manual_seed(0)
    companions = {} if mixer == WITHOUT_MIXER else mixer_companions(mixer)  # mamba, cat: degree order
    config = ModelConfig(mixer=PartSpec(NO_PART if mixer == WITHOUT_MIXER else mixer), local=PartSpec("gine"),
                         norm="batch", **companions, **settings)
    model = build(implementation, config, info).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loss_of = objective_for(info).loss

    def train_on(batch: Batch) -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(precision, device):
            output = model(batch)
        loss = loss_of(output.float(), batch.y)
        loss.backward()
        optimizer.step()

    baseline = reset_peak(device)
    for batch in batches[:2]:
        train_on(batch)
    synchronize(device)
    seconds = []
    for _ in range(passes):
        start = time.perf_counter()
        for batch in batches:
            train_on(batch)
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return {"seconds": seconds, "peak_mib": added_mib(baseline, device),
            "parameters": sum(p.numel() for p in model.parameters())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("implementation", choices=["ours", "pyg"])
    parser.add_argument("mixer")
    parser.add_argument("batches")
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="32-true", choices=["32-true", *AUTOCAST])
    args = parser.parse_args()
    print(json.dumps(measure(args.implementation, args.mixer, args.batches, args.passes, torch.device(args.device),
                             args.precision)))


if __name__ == "__main__":
    main()
