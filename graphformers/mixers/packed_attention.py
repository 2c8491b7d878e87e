"""Full attention with dropout over a batch's size blocks on the CPU, forward and backward written out.

Through autograd, each block's attention copies its Q, K and V out of the node rows, and
backward sums their gradients into zero-filled node tensors (``index_add``) and stacks the
three per block: on small molecules (blocks of ~25 nodes) those copies, fills and scatters cost
as much as the attention itself. Here one autograd function does the whole mixer between its
two projections: one ``index_select`` gathers every node's Q, K and V rows into the blocks'
heads-first layout, each block's products write straight into one packed output, and one
``index_select`` reads each node's row back; backward is the same two gathers reversed (every
real slot holds exactly one node's row, and padded slots get exactly zero gradient, so reading
back replaces scatter-adding) with each block's gradient products written in place. It saves
the probabilities and the 1-byte keep mask per block, less than autograd kept.
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphformers.mixers.size_groups import SizeBlock, SizePlan, channel_rows
from graphformers.nn.dropout import dropout_keep_mask, keep_factors


class _PackedAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, qkv: Tensor, plan: SizePlan, heads: int, dropout: float) -> Tensor:
        nodes, width = qkv.size(0), qkv.size(1) // (3 * heads)
        inputs, outputs = channel_rows(plan, 3 * heads), channel_rows(plan, heads)
        with torch.autocast(qkv.device.type, enabled=False):
            rows = qkv.reshape(-1, width).index_select(0, inputs.gather)
            attended = rows.new_empty(outputs.gather.numel(), width)
            saved = []
            for block, start, out_start in zip(plan.blocks, inputs.starts, outputs.starts, strict=True):
                q, k, v = _qkv_views(rows, start, block.index.shape, heads, width)
                probabilities = _probabilities(q, k, block, heads)
                keep = dropout_keep_mask(probabilities.shape, dropout, qkv.device) if dropout > 0.0 else None
                dropped = probabilities if keep is None else probabilities * keep_factors(keep, probabilities.dtype)
                torch.bmm(dropped.to(v.dtype), v, out=_rows_view(attended, out_start, q.shape))
                saved.append((probabilities, keep))
            if dropout > 0.0:
                attended.mul_(1.0 / (1.0 - dropout))
        ctx.plan, ctx.rows_maps, ctx.heads, ctx.dropout = plan, (inputs, outputs), heads, dropout
        ctx.rows, ctx.saved = rows, saved
        return attended.index_select(0, outputs.place).view(nodes, heads * width)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        inputs, outputs = ctx.rows_maps
        heads, rows = ctx.heads, ctx.rows
        nodes, width = grad.size(0), rows.size(1)
        with torch.autocast(grad.device.type, enabled=False):
            grad_attended = grad.to(rows.dtype).reshape(-1, width).index_select(0, outputs.gather)
            # padded queries were never read: no gradient may flow from them into V
            grad_attended.masked_fill_(outputs.padded[:, None], 0.0)
            if ctx.dropout > 0.0:
                grad_attended.mul_(1.0 / (1.0 - ctx.dropout))
            grad_rows = torch.empty_like(rows)  # padded slots' rows are written but never read back
            per_block = zip(ctx.plan.blocks, inputs.starts, outputs.starts, ctx.saved, strict=True)
            for block, start, out_start, (probabilities, keep) in per_block:
                q, k, v = _qkv_views(rows, start, block.index.shape, heads, width)
                grad_q, grad_k, grad_v = _qkv_views(grad_rows, start, block.index.shape, heads, width)
                grad_out = _rows_view(grad_attended, out_start, q.shape)
                factors = None if keep is None else keep_factors(keep, probabilities.dtype)
                dropped = probabilities if factors is None else probabilities * factors
                torch.bmm(dropped.to(v.dtype).transpose(1, 2), grad_out, out=grad_v)
                grad_probabilities = torch.bmm(grad_out, v.transpose(1, 2)).to(probabilities.dtype)
                if factors is not None:
                    grad_probabilities.mul_(factors)
                grad_scores = torch._softmax_backward_data(grad_probabilities, probabilities, -1,
                                                           probabilities.dtype).to(q.dtype)
                torch.bmm(grad_scores, k, out=grad_q).mul_(width ** -0.5)
                torch.bmm(grad_scores.transpose(1, 2), q, out=grad_k).mul_(width ** -0.5)
            grad_qkv = grad_rows.index_select(0, inputs.place).view(nodes, -1)
        return grad_qkv, None, None, None


def _qkv_views(rows: Tensor, start: int, shape: torch.Size, heads: int, width: int) -> tuple[Tensor, Tensor, Tensor]:
    """One block's Q, K and V, each ``[heads G, L, d]``, as views of its packed rows."""
    graphs, length = shape
    count = heads * graphs * length
    region = rows[start:start + 3 * count].view(3, heads * graphs, length, width)
    return region[0], region[1], region[2]


def _rows_view(rows: Tensor, start: int, shape: torch.Size) -> Tensor:
    """``shape`` (``[heads G, L, d]``) rows of packed ``rows`` from ``start``, as a view."""
    return rows[start:start + shape[0] * shape[1]].view(shape)


def _probabilities(q: Tensor, k: Tensor, block: SizeBlock, heads: int) -> Tensor:
    """``softmax(q k^T / sqrt(d))`` over the block's real keys, in float32 at least: ``[heads G, L, L]``."""
    if block.complete:
        bias = q.new_zeros(())
    else:  # -inf on padded keys enters the product (beta 1) instead of a masking pass, [heads G, 1, L]
        bias = q.new_zeros(block.valid.shape).masked_fill_(~block.valid, float("-inf")).repeat(heads, 1)[:, None]
    scores = torch.baddbmm(bias, q, k.transpose(1, 2), alpha=q.size(-1) ** -0.5)
    return torch.softmax(scores, dim=-1, dtype=torch.promote_types(scores.dtype, torch.float32))


def packed_attention(qkv: Tensor, plan: SizePlan, heads: int, dropout: float) -> Tensor:
    """Multi-head softmax attention within each graph, with dropout ``dropout`` on the probabilities.

    The same values as gathering ``plan``'s blocks and running
    :func:`~graphformers.mixers.softmax_attention.block_attention` on each (masks drawn in the same
    order: block after block, each ``[heads G, L, L]``), in one autograd function.

    Args:
        qkv (Tensor): ``[N, 3 hidden]``: each node's queries, keys and values, each ``heads`` runs
            of ``hidden / heads`` channels.
        plan (SizePlan): the batch's size blocks (:func:`~graphformers.mixers.size_groups.plan_of`).
        heads (int): attention heads.
        dropout (float): drop probability of each attention probability (0: none).

    Shapes: ``qkv [N, 3 hidden]`` -> ``[N, hidden]``.
    """
    return _PackedAttention.apply(qkv, plan, heads, dropout)
