"""Mixers that read each graph's nodes as a sequence, in the order of ``model.ordering``."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch

from graphformers.errors import PartOptionError, check_positive
from graphformers.mixers.base import GlobalMixer
from graphformers.mixers.kernel_attention import from_head_blocks, to_head_blocks
from graphformers.mixers.size_groups import SizePlan
from graphformers.orderings.base import NodeOrdering, order_within_graphs


class OrderedMixer(GlobalMixer):
    """Base class of mixers that scan each graph's nodes in an order (``mamba``, ``cat``).

    The model hands over the recipe's ordering (:meth:`use_ordering`; ``model.ordering``, required).
    Each call sorts every graph's nodes by the ordering's keys, breaking ties by uniform per-node
    tie-breaks: in training drawn afresh from torch's generator at every call (seeded each epoch,
    so a resumed run draws the same), at evaluation from generators seeded ``0 .. eval_orderings -
    1`` by each node's position in its graph (:func:`evaluation_tie_breaks`: a graph is ordered
    alike in any batch), whose outputs are averaged (Graph-Mamba averages 5 random orders at
    evaluation; ``eval_orderings: 1`` is one fixed order per graph). Subclasses implement :meth:`mix_sequences` on the
    sorted nodes; the result is put back in the nodes' own order.

    Args:
        hidden (int): width of node features, in and out.
        heads (int): attention heads (``model.heads``).
        dropout (float): the mixer's dropout (``model.attn_dropout``).
        eval_orderings (int, optional): orderings averaged at evaluation (default: :obj:`1`)
    """

    reads_ordering = True

    def __init__(self, hidden: int, heads: int, dropout: float, eval_orderings: int = 1) -> None:
        super().__init__(hidden, heads, dropout)
        check_positive(eval_orderings, f"{type(self).__name__}'s eval_orderings")
        self.eval_orderings = eval_orderings
        self.ordering: NodeOrdering | None = None

    def use_ordering(self, ordering: NodeOrdering | None) -> None:
        """Keep the recipe's ordering; without one this mixer cannot run."""
        if ordering is None:
            raise PartOptionError(f"the mixer {type(self).__name__} scans each graph's nodes in an order, but "
                                  f"model.ordering is not set; set one (degree, fiedler, bfs, random: graphformers "
                                  f"list ordering), e.g. model.ordering=degree.")
        self.ordering = ordering

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        if self.ordering is None:
            self.use_ordering(None)
        if x.size(0) == 0:  # no node to scan (only empty graphs): a scan needs a step
            return self.without_nodes(x)
        keys = self.ordering.keys(data)
        if self.training:
            return self._in_order(x, keys, torch.rand(keys.shape, device=keys.device), data)
        outputs = [self._in_order(x, keys, evaluation_tie_breaks(data, seed), data)
                   for seed in range(self.eval_orderings)]
        return outputs[0] if len(outputs) == 1 else torch.stack(outputs).mean(dim=0)

    def _in_order(self, x: Tensor, keys: Tensor, tie_breaks: Tensor, data: Batch) -> Tensor:
        order = order_within_graphs(keys, tie_breaks, data.batch)
        mixed = self.mix_sequences(x.index_select(0, order), data)
        return torch.empty_like(mixed).index_copy_(0, order, mixed)

    def mix_sequences(self, x: Tensor, data: Batch) -> Tensor:
        """The mixer on nodes in scan order: ``x [N, hidden]`` holds each graph's nodes at its
        positions in the batch, in the order read; returns ``[N, hidden]`` in the same layout."""
        raise NotImplementedError


def evaluation_tie_breaks(data: Batch, seed: int) -> Tensor:
    """``[N]`` tie-breaks for evaluation: draw ``seed`` (a CPU generator) indexed by each node's position in
    its own graph, so a graph gets the same ones in any batch, at any batch size, on any device."""
    ptr, batch = data.ptr, data.batch
    local = torch.arange(batch.numel(), device=batch.device) - ptr[batch]
    sizes = int((ptr[1:] - ptr[:-1]).max())
    draws = torch.rand(sizes, generator=torch.Generator().manual_seed(seed))
    return draws.to(batch.device).index_select(0, local)


def to_sequences(x: Tensor, data: Batch) -> tuple[SizePlan | None, list[tuple[Tensor | None, Tensor]]]:
    """Each graph's nodes as a padded sequence, graphs of similar size in one block: the batch's size
    plan (``None`` for one graph) and ``[(valid [G, L] or None, sequences [G, L, d])]``, the padding
    after each graph's nodes.

    Shapes: ``x [N, d]`` -> blocks ``[G, L, d]``.
    """
    plan, blocks = to_head_blocks(x.unsqueeze(1), data)
    return plan, [(valid, block.squeeze(0)) for valid, block in blocks]


def from_sequences(sequences: list[Tensor], plan: SizePlan | None) -> Tensor:
    """The inverse of :func:`to_sequences` on real positions (``plan`` as it returned): one
    ``[G, L, d]`` per block -> ``[N, d]``."""
    return from_head_blocks([sequence.unsqueeze(0) for sequence in sequences], plan).squeeze(1)


def reversed_within_graphs(data: Batch) -> Tensor:
    """``[N]`` the permutation that reverses each graph's node positions (a graph's last node first)."""
    ptr, batch = data.ptr, data.batch
    return ptr[batch] + ptr[batch + 1] - 1 - torch.arange(batch.numel(), device=batch.device)
