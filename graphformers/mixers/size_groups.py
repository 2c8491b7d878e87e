"""Graphs of a batch grouped by size into padded blocks, for mixers that work on dense per-graph blocks.

Padding a whole batch to its largest graph (as ``to_dense_batch`` and PyG's ``GPSConv`` do)
wastes most of the work when sizes vary: on Peptides (8 to 444 nodes, mean 151) padded
score matrices are ~6x the real ones and padded node tensors ~3x. Blocks of similar-size
graphs cut that waste to at most ``ratio`` per side, for one call per block.

Grouping reads the graph sizes on the host. So that an accelerator never waits for it, the
blocks of a mini-batch are planned once, on the CPU, where it is collated (in the loader's
worker: :class:`SizeBlockCollater`) and travel with the batch as ``batch.size_blocks``
(PyG moves and pins the tensors of named tuples and lists); every mixer of every layer reads
that plan (:func:`plan_of`) and gathers and scatters with integer indices only.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import torch
from torch import Tensor
from torch_geometric.data import Batch
from torch_geometric.utils import degree

PAD_RATIO = 1.25
"""A graph shares a padded block with larger graphs only if the largest is at most this many times its size."""

PLAN_KEY = "size_blocks"
"""Attribute of a :class:`~torch_geometric.data.Batch` holding its block plan (a list of :class:`SizeBlock`)."""


class SizeBlock(NamedTuple):
    """One padded block of ``G`` graphs of similar size, padded to ``L`` nodes (the largest).

    Args:
        index (Tensor): ``[G, L]`` node positions of the graphs' nodes; padded slots point at node 0.
        valid (Tensor): ``[G, L]`` bool, which slots are real nodes.
        complete (bool): every slot is real (graphs of one size): no mask is needed.
    """

    index: Tensor
    valid: Tensor
    complete: bool


class SizePlan(NamedTuple):
    """The padded blocks of a batch and the two integer maps between nodes and the blocks' slots.

    The slots of all blocks, one block after another (each flattened ``[G * L]``), are the batch's
    packed slots. :func:`to_blocks` gathers node rows into them with one ``index_select`` (whose
    backward is one ``index_add``) and :func:`from_blocks` reads each node's row back with another:
    advanced indexing per block would cost an ``index_put`` per block and layer, forward or backward
    (12-17% of a CPU GPS step when it did).

    Args:
        blocks (list of SizeBlock): the blocks, largest graphs first.
        gather (Tensor): ``[S]`` the node each packed slot holds (padded slots: node 0).
        slot (Tensor): ``[N]`` each node's packed slot.
    """

    blocks: list[SizeBlock]
    gather: Tensor
    slot: Tensor


def size_groups(sizes: Tensor, ratio: float = PAD_RATIO) -> list[Tensor]:
    """Graph ids grouped by size, largest first, so that padding within a group is at most ``ratio``x per side."""
    order = torch.argsort(sizes, descending=True, stable=True)
    ordered = sizes[order].tolist()
    groups, start = [], 0
    for i in range(1, len(ordered) + 1):
        if i == len(ordered) or ordered[i] * ratio < ordered[start]:
            if ordered[start] > 0:
                groups.append(order[start:i])
            start = i
    return groups


def padded_blocks(batch: Tensor, num_graphs: int, ratio: float = PAD_RATIO) -> SizePlan:
    """The size groups of a batch (:func:`size_groups`) as padded blocks, largest graphs first.

    Planned on the CPU (one read of the sizes if ``batch`` is elsewhere) and placed where ``batch`` is.

    Args:
        batch (Tensor): ``[N]`` graph of each node, sorted (as in a PyG ``Batch``).
        num_graphs (int): graphs in the batch (empty ones included).
        ratio (float): largest padding factor within a block.
    """
    sizes = degree(batch, num_graphs, dtype=torch.long).cpu()
    starts = torch.cumsum(sizes, 0) - sizes
    blocks = []
    for group in size_groups(sizes, ratio):
        positions = torch.arange(int(sizes[group[0]]))
        valid = positions < sizes[group][:, None]
        blocks.append(SizeBlock(torch.where(valid, starts[group][:, None] + positions, 0), valid, bool(valid.all())))
    gather = torch.cat([block.index.flatten() for block in blocks]) if blocks else torch.zeros(0, dtype=torch.long)
    valid = torch.cat([block.valid.flatten() for block in blocks]) if blocks else torch.zeros(0, dtype=torch.bool)
    slot = torch.empty(batch.numel(), dtype=torch.long)
    slot[gather[valid]] = valid.nonzero().view(-1)
    plan = SizePlan(blocks, gather, slot)
    return plan if batch.device.type == "cpu" else _placed(plan, batch.device)


def _placed(plan: SizePlan, device: torch.device) -> SizePlan:
    def place(value: Tensor) -> Tensor:
        return value.to(device, non_blocking=True)
    blocks = [SizeBlock(place(block.index), place(block.valid), block.complete) for block in plan.blocks]
    return SizePlan(blocks, place(plan.gather), place(plan.slot))


def plan_of(data: Batch) -> SizePlan:
    """The block plan of ``data`` (over ``data.batch``): the one collated with it, else planned now
    and attached, so the mixers of all layers share one plan.

    Args:
        data (Batch): a mini-batch of graphs (``batch [N]``, ``num_graphs``).
    """
    if PLAN_KEY not in data:
        data[PLAN_KEY] = padded_blocks(data.batch, data.num_graphs)
    return data[PLAN_KEY]


def to_blocks(values: Tensor, plan: SizePlan) -> list[Tensor]:
    """Node rows gathered into each padded block (padded slots hold node 0's row).

    Shapes: ``values [N, *]`` -> one ``[G, L, *]`` per block of ``plan``.
    """
    packed = values.index_select(0, plan.gather)
    parts = packed.split([block.index.numel() for block in plan.blocks])
    return [part.view(*block.index.shape, *values.shape[1:]) for part, block in zip(parts, plan.blocks)]


def from_blocks(blocks: list[Tensor], plan: SizePlan) -> Tensor:
    """Each node's row read back from the padded blocks (the inverse of :func:`to_blocks` on real slots).

    Shapes: one ``[G, L, *]`` per block of ``plan`` -> ``[N, *]``.
    """
    return torch.cat([block.flatten(0, 1) for block in blocks]).index_select(0, plan.slot)


class SizeBlockCollater:
    """A collate function that plans each collated batch's blocks (:func:`padded_blocks`) where it
    is collated: in a data-loader worker when there are workers, never on the training loop's path.

    Args:
        collate (callable): the wrapped collate function (PyG's ``Collater``), returning a ``Batch``.
    """

    def __init__(self, collate: Callable[[Sequence[Any]], Batch]) -> None:
        self.collate = collate

    def __call__(self, items: Sequence[Any]) -> Batch:
        batch = self.collate(items)
        plan_of(batch)
        return batch
