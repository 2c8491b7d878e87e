"""Linear (kernelised) attention within each graph, shared by the Performer and Polynormer mixers."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch

from graphformers.mixers.size_groups import SizePlan, from_channel_blocks, plan_of, to_channel_blocks

HeadBlock = tuple[Tensor | None, Tensor]
"""One block of graphs, heads first: which of its slots hold a node (``[G, L]``; :obj:`None`: all),
and its values ``[C, G, L, w]``."""


def to_head_blocks(values: Tensor, data: Batch) -> tuple[SizePlan | None, list[HeadBlock]]:
    """The nodes of ``data`` in blocks of similar-size graphs, channels (heads) outermost: the batch's
    plan (:func:`~graphformers.mixers.size_groups.plan_of`) and its blocks
    (:func:`~graphformers.mixers.size_groups.to_channel_blocks`); a single graph is one block made
    by one transposing copy, without a plan or a gather (it may be a large graph).

    Args:
        values (Tensor): each node's channels.
        data (Batch): the graphs of the nodes (``batch``, ``num_graphs``).

    Shapes: ``values [N, C, w]`` -> blocks ``[C, G, L, w]``.
    """
    if data.num_graphs == 1:
        return None, [(None, values.transpose(0, 1).unsqueeze(1).contiguous())]
    plan = plan_of(data)
    return plan, [(None if block.complete else block.valid, gathered)
                  for block, gathered in zip(plan.blocks, to_channel_blocks(values, plan), strict=True)]


def from_head_blocks(blocks: list[Tensor], plan: SizePlan | None) -> Tensor:
    """Each node's channels read back from the blocks of :func:`to_head_blocks` (``plan`` as it returned).

    Shapes: one ``[C, G, L, w]`` per block -> ``[N, C, w]``.
    """
    return blocks[0].squeeze(1).transpose(0, 1) if plan is None else from_channel_blocks(blocks, plan)


def per_graph_linear_attention(query_features: Tensor, key_features: Tensor, values: Tensor, data: Batch,
                               eps: float = 1e-6) -> Tensor:
    """``out_i = phi(q_i) . sum_j phi(k_j) v_j^T / (phi(q_i) . sum_j phi(k_j) + eps)`` over ``j`` in ``i``'s graph.

    Shapes: ``query_features``, ``key_features`` ``[N, heads, m]`` (non-negative feature maps),
    ``values`` ``[N, heads, d]`` -> ``[N, heads, d]``, for the nodes of ``data`` (its ``batch [N]``,
    ``num_graphs`` and block plan). Cost O(N m d).

    The nodes are gathered, heads first, into blocks of similar-size graphs (:func:`to_head_blocks`)
    for the two contractions of :func:`block_linear_attention`, in which padded keys count for
    nothing (PyG's ``PerformerAttention`` / ``PolynormerAttention`` pad the whole batch to its
    largest graph and zero only padded values, so their padded keys still add to the normaliser).
    Scattering per-node outer products ``phi(k_j) v_j^T`` instead would hold an
    ``[N, heads, m, d]`` tensor, ``m * d`` times the activations.
    """
    features, width = query_features.size(-1), values.size(-1)
    packed = torch.cat([query_features, key_features, values.to(query_features.dtype)], dim=-1)  # one gather
    plan, blocks = to_head_blocks(packed, data)
    attended = []
    for valid, gathered in blocks:  # [heads, G, L, 2m + d]
        queries, keys, block_values = gathered.split([features, features, width], dim=-1)
        attended.append(block_linear_attention(queries, keys, block_values, valid, eps))
    return from_head_blocks(attended, plan)


def block_linear_attention(queries: Tensor, keys: Tensor, values: Tensor, valid: Tensor | None,
                           eps: float = 1e-6, feature_floor: float = 0.0) -> Tensor:
    """Linear attention within each graph of a block, for every channel (head) at once:
    ``out = phi(Q) (phi(K)^T [V, 1])``, the last column the normaliser, with
    ``phi(X) = X + feature_floor``.

    The floor is added through the sums (``phi(K)^T V = K^T V + floor 1 (1^T V)``, and likewise for
    the queries), not to the ``[C, G, L, m]`` features, which saves a pass over them. The keys of
    padded slots (``valid`` False) add nothing to either sum. Each ``[L, *]`` matrix may have rows
    further apart than its width (a slice of wider rows): the matrix products read it in place.

    Args:
        queries (Tensor): non-negative query features.
        keys (Tensor): non-negative key features.
        values (Tensor): the values.
        valid (Tensor, optional): which slots hold a node (:obj:`None`: all).
        eps (float, optional): added to the normaliser (default: :obj:`1e-6`).
        feature_floor (float, optional): added to every query and key feature (default: :obj:`0.0`).

    Shapes: ``queries``, ``keys`` ``[C, G, L, m]``, ``values`` ``[C, G, L, d]``, ``valid`` ``[G, L]``
    -> ``[C, G, L, d]``.
    """
    # values gain a channel of ones: its attended value is the normaliser, so one pair of products gives both
    extended = torch.cat([values, values.new_ones(*values.shape[:-1], 1)], dim=-1)  # [C, G, L, d + 1]
    if valid is not None:
        extended = extended * valid[:, :, None]
    extended = extended.flatten(0, 1)
    keys_values = keys.flatten(0, 1).transpose(1, 2) @ extended  # [C G, m, d + 1]
    if feature_floor:
        keys_values = keys_values + feature_floor * extended.sum(dim=1, keepdim=True)
    attended = queries.flatten(0, 1) @ keys_values  # [C G, L, d + 1]
    if feature_floor:
        attended = attended + feature_floor * keys_values.sum(dim=1, keepdim=True)
    return (attended[..., :-1] / (attended[..., -1:] + eps)).view(values.shape)
