"""Graphs of a batch grouped by size into padded blocks, for mixers that work on dense per-graph blocks.

Padding a whole batch to its largest graph (as ``to_dense_batch`` and PyG's ``GPSConv`` do)
wastes most of the work when sizes vary: on Peptides (8 to 444 nodes, mean 151) padded
score matrices are ~6x the real ones and padded node tensors ~3x. One block per size wastes
nothing but costs a few dozen operator calls per block, layer and step: on small molecules (a
batch of 128 has ~40 sizes) the calls cost more than the padding saves. :func:`size_groups`
chooses the blocks that minimise padded scores plus a fixed cost per block (:data:`BLOCK_COST`).

Grouping reads the graph sizes on the host. So that an accelerator never waits for it, the
blocks of a mini-batch are planned once, on the CPU, where it is collated (in the loader's
worker: :class:`SizeBlockCollater`) and travel with the batch as ``batch.size_blocks``
(PyG moves and pins the tensors of named tuples and lists); every mixer of every layer reads
that plan (:func:`plan_of`) and gathers and scatters with integer indices only.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Batch
from torch_geometric.utils import degree

BLOCK_COST = 5000
"""The cost of one more block, in padded attention scores per head: measured on 2 CPU cores (one full-attention
layer's forward and backward, batches of 128 HIV molecules, hidden 64, 4 heads), a block's operator calls
take ~0.3 ms and a padded score ~65 ns per head. Batches of 128 HIV molecules: 9.6 blocks -> 5.8."""

MAX_PAD_RATIO = 2.0
"""A graph shares a block only with graphs at most this many times its size (bounds padding, and so memory)."""

PLAN_KEY = "size_blocks"
"""Attribute of a :class:`~torch_geometric.data.Batch` holding its block plan (a :class:`SizePlan`)."""


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
    packed slots. :func:`to_channel_blocks` gathers node rows into them with one ``index_select``
    (whose backward is one ``index_add``) and :func:`from_channel_blocks` reads each node's row back
    with another: advanced indexing per block would cost an ``index_put`` per block and layer,
    forward or backward (12-17% of a CPU GPS step when it did).

    Args:
        blocks (list of SizeBlock): the blocks, largest graphs first (at least one; :func:`padded_blocks`).
        gather (Tensor): ``[S]`` the node each packed slot holds (padded slots: node 0).
        slot (Tensor): ``[N]`` each node's packed slot.
        block_start (Tensor): ``[N]`` the first packed slot of each node's block.
        block_slots (Tensor): ``[N]`` the slots of each node's block (``G * L``).
        rows (dict): the :class:`ChannelRows` of each channel count used so far (:func:`channel_rows`
            fills it: every layer's mixer reads the same maps).
    """

    blocks: list[SizeBlock]
    gather: Tensor
    slot: Tensor
    block_start: Tensor
    block_slots: Tensor
    rows: dict[int, ChannelRows]


class ChannelRows(NamedTuple):
    """Row maps between ``[N * C, d]`` node-channel rows and the packed rows of a plan's blocks.

    Block after block, each block's packed rows are ``[C, G, L]`` (channel outermost, then graph,
    then slot), so channels ``a:b`` of a block are one contiguous ``[(b - a) G, L, d]`` batch of
    matrices. Gathering rows of ``d`` values straight into that layout took 160 us where gathering
    whole nodes and then moving their channels outermost took 780 us (3,300 nodes, 12 x 24 channels).

    Args:
        gather (Tensor): ``[R]`` the node-channel row each packed row holds (padded slots: node 0's).
        place (Tensor): ``[N * C]`` the packed row of each node-channel row.
        padded (Tensor): ``[R]`` bool, which packed rows are padded slots.
        starts (list of int): each block's first packed row.
    """

    gather: Tensor
    place: Tensor
    padded: Tensor
    starts: list[int]


def size_groups(sizes: Tensor, block_cost: float = BLOCK_COST, max_ratio: float = MAX_PAD_RATIO) -> list[Tensor]:
    """Graph ids grouped into blocks of similar size, largest first, at the least total cost.

    A block costs its padded scores, ``graphs x largest^2``, plus ``block_cost``; blocks hold graphs of
    consecutive sizes, at most ``max_ratio`` apart. The cheapest partition is found exactly by dynamic
    programming over the distinct sizes (O(distinct sizes x candidates)). Empty graphs belong to no block.

    Args:
        sizes (Tensor): ``[B]`` nodes of each graph.
        block_cost (float): the cost of one block, in padded scores (0: one block per distinct size).
        max_ratio (float): largest size ratio within a block.
    """
    order = torch.argsort(sizes, descending=True, stable=True)
    order = order[sizes[order] > 0]
    ordered = sizes[order].tolist()
    # distinct sizes, largest first, and where each one's graphs start in ``order``
    starts = [i for i in range(len(ordered)) if i == 0 or ordered[i] != ordered[i - 1]] + [len(ordered)]
    cost, cut = [0.0], [0]  # cost[j]: cheapest blocks for the first j distinct sizes; cut[j]: its last block's start
    for j in range(1, len(starts)):
        smallest = ordered[starts[j - 1]]
        cost.append(float("inf"))
        cut.append(j - 1)
        for i in range(j - 1, -1, -1):
            largest = ordered[starts[i]]
            if largest > max_ratio * smallest:
                break
            candidate = cost[i] + (starts[j] - starts[i]) * largest ** 2 + block_cost
            if candidate < cost[j]:
                cost[j], cut[j] = candidate, i
    groups, j = [], len(starts) - 1
    while j > 0:
        groups.append(order[starts[cut[j]]:starts[j]])
        j = cut[j]
    return groups[::-1]


def padded_blocks(batch: Tensor, num_graphs: int, block_cost: float = BLOCK_COST) -> SizePlan:
    """The size groups of a batch (:func:`size_groups`) as padded blocks, largest graphs first; a batch
    without nodes (only empty graphs) is one empty block (``[0, 0]``), so that mixers keep their shapes.

    Planned on the CPU (one read of the sizes if ``batch`` is elsewhere) and placed where ``batch`` is.

    Args:
        batch (Tensor): ``[N]`` graph of each node, sorted (as in a PyG ``Batch``).
        num_graphs (int): graphs in the batch (empty ones included).
        block_cost (float): the cost of one more block, in padded scores (:func:`size_groups`).
    """
    sizes = degree(batch, num_graphs, dtype=torch.long).cpu()
    starts = torch.cumsum(sizes, 0) - sizes
    blocks = []
    for group in size_groups(sizes, block_cost):
        positions = torch.arange(int(sizes[group[0]]))
        valid = positions < sizes[group][:, None]
        blocks.append(SizeBlock(torch.where(valid, starts[group][:, None] + positions, 0), valid, bool(valid.all())))
    if not blocks:  # no nodes (only empty graphs): one empty block, so that the mixers run on [C, 0, 0, d]
        blocks.append(SizeBlock(torch.zeros(0, 0, dtype=torch.long), torch.zeros(0, 0, dtype=torch.bool), True))
    gather = torch.cat([block.index.flatten() for block in blocks])
    valid = torch.cat([block.valid.flatten() for block in blocks])
    slot = torch.empty(batch.numel(), dtype=torch.long)
    slot[gather[valid]] = valid.nonzero().view(-1)
    slots = torch.tensor([block.index.numel() for block in blocks], dtype=torch.long)
    block_of_slot = torch.repeat_interleave(torch.arange(len(blocks)), slots)[slot]
    plan = SizePlan(blocks, gather, slot, (torch.cumsum(slots, 0) - slots)[block_of_slot], slots[block_of_slot], {})
    return plan if batch.device.type == "cpu" else _placed(plan, batch.device)


def _placed(plan: SizePlan, device: torch.device) -> SizePlan:
    def place(value: Tensor) -> Tensor:
        return value.to(device, non_blocking=True)
    blocks = [SizeBlock(place(block.index), place(block.valid), block.complete) for block in plan.blocks]
    return SizePlan(blocks, *(place(value) for value in plan[1:-1]), {})


def plan_of(data: Batch) -> SizePlan:
    """The block plan of ``data`` (over ``data.batch``): the one collated with it, else planned now
    and attached, so the mixers of all layers share one plan.

    Args:
        data (Batch): a mini-batch of graphs (``batch [N]``, ``num_graphs``).
    """
    if PLAN_KEY not in data:
        data[PLAN_KEY] = padded_blocks(data.batch, data.num_graphs)
    return data[PLAN_KEY]


def channel_rows(plan: SizePlan, channels: int) -> ChannelRows:
    """The :class:`ChannelRows` of ``plan`` for ``channels`` channels per node (made once per plan).

    Args:
        plan (SizePlan): the batch's size blocks.
        channels (int): channels per node (``C``).
    """
    if channels in plan.rows:
        return plan.rows[channels]
    channel = torch.arange(channels, device=plan.gather.device)
    gather, padded, starts, start = [], [], [], 0
    for block in plan.blocks:
        gather.append((block.index.reshape(1, -1) * channels + channel[:, None]).flatten())
        padded.append((~block.valid).flatten().repeat(channels))
        starts.append(start)
        start += channels * block.index.numel()
    # a node's channel c lies in its block's rows (from C x the block's first slot), c x (the block's slots) further
    place = ((channels - 1) * plan.block_start + plan.slot)[:, None] + channel * plan.block_slots[:, None]
    rows = ChannelRows(torch.cat(gather), place.flatten(), torch.cat(padded), starts)
    plan.rows[channels] = rows
    return rows


def to_channel_blocks(values: Tensor, plan: SizePlan) -> list[Tensor]:
    """Each node's channels gathered into the padded blocks (padded slots hold node 0's), channels
    outermost in each block, in one ``index_select`` of ``d``-wide rows (:class:`ChannelRows`):
    channels ``a:b`` of a block then reshape to ``[(b - a) G, L, d]`` without a copy (the batch of
    a batched matrix product, heads first).

    Shapes: ``values [N, C, d]`` -> one ``[C, G, L, d]`` per block of ``plan``.
    """
    channels, width = values.shape[1:]
    packed = values.reshape(-1, width).index_select(0, channel_rows(plan, channels).gather)
    parts = packed.split([channels * block.index.numel() for block in plan.blocks])
    return [part.view(channels, *block.index.shape, width) for part, block in zip(parts, plan.blocks, strict=True)]


def from_channel_blocks(blocks: list[Tensor], plan: SizePlan) -> Tensor:
    """Each node's channels read back from channel-outermost blocks (the inverse of
    :func:`to_channel_blocks` on real slots), with one ``index_select``.

    Shapes: one ``[C, G, L, d]`` per block of ``plan`` -> ``[N, C, d]``.
    """
    channels, width = blocks[0].size(0), blocks[0].size(-1)
    packed = torch.cat([block.reshape(-1, width) for block in blocks])
    return packed.index_select(0, channel_rows(plan, channels).place).view(-1, channels, width)


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
