"""One scaling measurement in its own process: ``python -m graphformers.benchmarks.scaling_worker MIXER N``.

Builds one synthetic graph (``graphs.synthetic_graph``: N nodes, ~5N directed edges), one GPS
layer (GINE + MIXER, hidden 64, 4 heads), runs the mixer's precompute, then times forward + backward and
measures the peak resident memory they add. Prints one JSON line. Run as a separate
process (``bench scaling --quick``, a smoke test, calls :func:`measure` in its own process instead)
so that the peak is this measurement's alone and an out-of-memory stays contained
(on CPU the address space is capped at ``--memory-gib``; on CUDA, the allocator's share of the
GPU). The parent sets glibc's malloc to keep freed memory (see ``scaling.STEADY_MALLOC``), as a
training process reaches steady state.
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import time

import torch
from torch_geometric.data import Batch

from graphformers.benchmarks.graphs import synthetic_graph
from graphformers.benchmarks.memory import added_mib, reset_peak, synchronize
from graphformers.layers import GPSLayer
from graphformers.local import GINE
from graphformers.models.parts import build_mixer, build_ordering, mixer_companions
from graphformers.recipe import PartSpec

HIDDEN, HEADS = 64, 4
CPU = torch.device("cpu")


def measure(mixer: str, num_nodes: int, repeats: int, device: torch.device = CPU) -> dict[str, float]:
    """Median seconds (NaN when ``repeats`` is 0) and peak added MiB of one forward + backward pass."""
    torch.manual_seed(0)
    layer = GPSLayer(HIDDEN, GINE(HIDDEN), build_mixer(PartSpec(mixer), HIDDEN, HEADS, 0.0)).to(device)
    ordering = build_ordering(mixer_companions(mixer).get("ordering"))
    if ordering is not None:  # mamba, cat: degree order, as Graph-Mamba's
        layer.mixer.use_ordering(ordering)
    graph = synthetic_graph(num_nodes, channels=HIDDEN)
    for transform in (layer.mixer.precompute(), ordering.precompute() if ordering is not None else None):
        graph = transform(graph) if transform is not None else graph
    batch = Batch.from_data_list([graph]).to(device)
    edge_attr = torch.zeros(batch.edge_index.size(1), HIDDEN, device=device)
    x = batch.x.requires_grad_()

    def step() -> None:
        out, _ = layer(x, edge_attr, batch)
        out.sum().backward()
        synchronize(device)

    baseline = reset_peak(device)
    step()  # warm-up; the memory it adds is the peak of one step (later steps reuse freed memory)
    peak = added_mib(baseline, device)
    times = []
    for _ in range(repeats):
        layer.zero_grad(set_to_none=True)
        x.grad = None
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times) if times else math.nan
    return {"seconds": seconds, "peak_mib": peak, "edges": int(batch.edge_index.size(1))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mixer")
    parser.add_argument("nodes", type=int)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-gib", type=float, default=16.0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cpu":  # a CUDA context reserves far more address space than it uses
        limit = int(args.memory_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    else:
        torch.cuda.set_per_process_memory_fraction(min(1.0, args.memory_gib * 2**30 /
                                                       torch.cuda.get_device_properties(device).total_memory), device)
    print(json.dumps(measure(args.mixer, args.nodes, args.repeats, device)))


if __name__ == "__main__":
    main()
