"""Linear (kernelised) attention within each graph, shared by the Performer and Polynormer mixers."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch

from graphformers.mixers.size_groups import from_blocks, plan_of, to_blocks


def per_graph_linear_attention(query_features: Tensor, key_features: Tensor, values: Tensor, data: Batch,
                               eps: float = 1e-6) -> Tensor:
    """``out_i = phi(q_i) . sum_j phi(k_j) v_j^T / (phi(q_i) . sum_j phi(k_j) + eps)`` over ``j`` in ``i``'s graph.

    Shapes: ``query_features``, ``key_features`` ``[N, heads, m]`` (non-negative feature maps),
    ``values`` ``[N, heads, d]`` -> ``[N, heads, d]``, for the nodes of ``data`` (its ``batch [N]``,
    ``num_graphs`` and block plan). Cost O(N m d).

    A single graph is contracted directly. A batch is gathered into blocks of similar-size graphs
    (the batch's plan, :func:`~graphformers.mixers.size_groups.plan_of`) for the two contractions, with the values of padded
    keys zeroed so that they add nothing to any sum (PyG's ``PerformerAttention`` /
    ``PolynormerAttention`` pad the whole batch to its largest graph and zero only padded values,
    so their padded keys still add to the normaliser). Scattering per-node outer products
    ``phi(k_j) v_j^T`` instead would hold an ``[N, heads, m, d]`` tensor, ``m * d`` times the activations.
    """
    # values gain a channel of ones: its attended value is the normaliser, so one pair of products gives both
    extended = torch.cat([values, values.new_ones(*values.shape[:-1], 1)], dim=-1)  # [N, heads, d + 1]
    if data.num_graphs == 1:
        return _contract(query_features, key_features, extended, "n", eps)
    plan = plan_of(data)
    features = query_features.size(-1)
    packed = torch.cat([query_features, key_features, extended.to(query_features.dtype)], dim=-1)  # one gather
    attended = []
    for block, gathered in zip(plan.blocks, to_blocks(packed, plan)):  # [G, L, heads, 2m + d + 1]
        queries, keys, block_values = gathered.split([features, features, extended.size(-1)], dim=-1)
        if not block.complete:  # padded keys add nothing to either sum: their values (ones included) are zeroed
            block_values = block_values * block.valid[:, :, None, None]
        attended.append(_contract(queries, keys, block_values, "gn", eps))
    return from_blocks(attended, plan)


def _contract(queries: Tensor, keys: Tensor, values: Tensor, nodes: str, eps: float) -> Tensor:
    """The attention of each query over all keys along the ``nodes`` axes (``"n"``: one graph
    ``[n, heads, *]``; ``"gn"``: a block of graphs ``[g, n, heads, *]``); the last channel of
    ``values`` is ones, and its attended value the normaliser."""
    graphs = nodes[:-1]
    kv = torch.einsum(f"{nodes}hm,{nodes}hd->{graphs}hmd", keys, values)
    attended = torch.einsum(f"{nodes}hm,{graphs}hmd->{nodes}hd", queries, kv)
    return attended[..., :-1] / (attended[..., -1:] + eps)
