"""``relay``: a generated long-range node-classification task that needs no download.

Each graph is a long, thin random tree (every node hangs off one of the ``branch``
nodes created just before it, then node ids are shuffled), so most node pairs are many
hops apart. ``sources`` random nodes are *sources*, each with its own marker and a
colour ``c_s``; every node carries a token ``t``. Each node must output
``(t + sum_s c_s) mod colours``: it needs its own token (local) and every source's
colour (possibly far away). A message-passing network with L layers can only answer
for nodes within L hops of all sources and must guess elsewhere (chance = 1 / colours);
attention can read the sources from anywhere in the graph.

Node features ``x [N, 2 * colours + sources]``: one-hot token, one-hot source marker
(zero for other nodes), one-hot colour (zero except at sources). Targets ``y [N]``.
Metric: accuracy over all nodes. ``relay-large`` is one such graph of up to 10^7 nodes whose
nodes are split at random into train/val/test, for sampled training of giant graphs.
"""
from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from graphformers.data.base import SplitDataset
from graphformers.errors import PartOptionError
from graphformers.registry import register_dataset
from graphformers.task import TaskInfo


def relay_graph(rng: np.random.Generator, num_nodes: int, colours: int, branch: int, sources: int) -> Data:
    """One relay graph with ``num_nodes >= sources`` nodes (see module docstring)."""
    offsets = rng.integers(1, branch + 1, size=num_nodes - 1)
    parents = np.maximum(np.arange(1, num_nodes) - offsets, 0)
    relabel = rng.permutation(num_nodes)
    tree_edges = torch.from_numpy(np.stack([relabel[parents], relabel[1:]])).long()
    edge_index = to_undirected(tree_edges, num_nodes=num_nodes)
    source_nodes = torch.from_numpy(rng.choice(num_nodes, size=sources, replace=False))
    source_colours = torch.from_numpy(rng.integers(colours, size=sources))
    tokens = torch.from_numpy(rng.integers(colours, size=num_nodes))
    x = torch.zeros(num_nodes, 2 * colours + sources)
    x[torch.arange(num_nodes), tokens] = 1.0
    x[source_nodes, colours + torch.arange(sources)] = 1.0
    x[source_nodes, colours + sources + source_colours] = 1.0
    y = (tokens + source_colours.sum()) % colours
    return Data(x=x, edge_index=edge_index, y=y, num_nodes=num_nodes)


def task_info(colours: int = 4, sources: int = 2, **other_options: object) -> TaskInfo:
    """The relay task: one class per colour, one-hot features of width ``2 * colours + sources``."""
    return TaskInfo(level="node", task="multiclass", num_outputs=colours, metric="accuracy",
                    node_encoder="linear", node_in=2 * colours + sources)


@register_dataset("relay", task_info)
def relay(
    root: str,
    num_train: int = 2000,
    num_val: int = 500,
    num_test: int = 500,
    min_nodes: int = 24,
    max_nodes: int = 48,
    colours: int = 4,
    sources: int = 2,
    branch: int = 3,
    seed: int = 0,
) -> SplitDataset:
    """Generated long-range relay task (node-level, accuracy; chance = 1 / colours).

    Args:
        root (str): unused (generated in memory).
        num_train (int, optional): training graphs. (default: :obj:`2000`)
        num_val (int, optional): validation graphs. (default: :obj:`500`)
        num_test (int, optional): test graphs. (default: :obj:`500`)
        min_nodes (int, optional): smallest graph. (default: :obj:`24`)
        max_nodes (int, optional): largest graph. (default: :obj:`48`)
        colours (int, optional): colours (= classes). (default: :obj:`4`)
        sources (int, optional): source nodes per graph. (default: :obj:`2`)
        branch (int, optional): each node hangs off one of the ``branch`` nodes created just
            before it (1: a path). (default: :obj:`3`)
        seed (int, optional): generator seed. (default: :obj:`0`)
    """
    if not max(2, sources) <= min_nodes <= max_nodes:
        raise PartOptionError(
            f"relay: need max(2, sources) <= min_nodes <= max_nodes, got sources={sources}, "
            f"min_nodes={min_nodes}, max_nodes={max_nodes}."
        )
    rng = np.random.default_rng(seed)
    sizes = rng.integers(min_nodes, max_nodes + 1, size=num_train + num_val + num_test)
    graphs = [relay_graph(rng, int(n), colours, branch, sources) for n in sizes]
    return SplitDataset(graphs[:num_train], graphs[num_train:num_train + num_val],
                        graphs[num_train + num_val:], task_info(colours, sources))


@register_dataset("relay-large", task_info)
def relay_large(
    root: str,
    num_nodes: int = 100_000,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    colours: int = 4,
    sources: int = 2,
    branch: int = 3,
    seed: int = 0,
) -> SplitDataset:
    """One generated relay graph of num_nodes nodes (to 10^7) with random train/val/test nodes (node-level, accuracy),
    for sampled training.

    Args:
        root (str): unused (generated in memory).
        num_nodes (int, optional): nodes of the one graph. (default: :obj:`100000`)
        val_fraction (float, optional): share of nodes in validation. (default: :obj:`0.1`)
        test_fraction (float, optional): share of nodes in test. (default: :obj:`0.1`)
        colours (int, optional): colours (= classes). (default: :obj:`4`)
        sources (int, optional): source nodes. (default: :obj:`2`)
        branch (int, optional): tree branching, as in ``relay``. (default: :obj:`3`)
        seed (int, optional): generator seed. (default: :obj:`0`)
    """
    if not (val_fraction >= 0 and test_fraction >= 0 and val_fraction + test_fraction < 1):
        raise PartOptionError(f"relay-large: need val_fraction, test_fraction >= 0 with a sum below 1, got "
                         f"{val_fraction} and {test_fraction}.")
    rng = np.random.default_rng(seed)
    graph = relay_graph(rng, num_nodes, colours, branch, sources)
    part = torch.from_numpy(rng.random(num_nodes))
    test = part < test_fraction
    val = (part >= test_fraction) & (part < test_fraction + val_fraction)
    return SplitDataset.of_one_graph(graph, (~(test | val), val, test), task_info(colours, sources))
