"""Linear (kernelised) attention within each graph, shared by the Performer and Polynormer mixers."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import to_dense_batch


def per_graph_linear_attention(query_features: Tensor, key_features: Tensor, values: Tensor, batch: Tensor,
                               num_graphs: int, eps: float = 1e-6) -> Tensor:
    """``out_i = phi(q_i) . sum_j phi(k_j) v_j^T / (phi(q_i) . sum_j phi(k_j) + eps)`` over ``j`` in ``i``'s graph.

    Shapes: ``query_features``, ``key_features`` ``[N, heads, m]`` (non-negative feature maps),
    ``values`` ``[N, heads, d]`` -> ``[N, heads, d]``. Cost O(N m d).

    A single graph is contracted directly. A batch of graphs is padded to its largest graph
    for the two contractions only, with padded keys zeroed so that they add nothing to any
    sum (PyG's ``PerformerAttention`` / ``PolynormerAttention`` zero only padded values, so
    their padded keys still add to the normaliser). Scattering per-node outer products
    ``phi(k_j) v_j^T`` instead would hold an ``[N, heads, m, d]`` tensor, ``m * d`` times the
    activations; padding costs at most the batch's size skew (largest / mean graph) on ``[N, heads, m]``.
    """
    if num_graphs == 1:
        kv = torch.einsum("nhm,nhd->hmd", key_features, values)
        numerator = torch.einsum("nhm,hmd->nhd", query_features, kv)
        denominator = torch.einsum("nhm,hm->nh", query_features, key_features.sum(dim=0))
        return numerator / (denominator.unsqueeze(-1) + eps)
    m = key_features.size(-1)
    packed = torch.cat([key_features, query_features, values], dim=-1)  # one padding pass for all three
    dense, mask = to_dense_batch(packed, batch, batch_size=num_graphs)  # [B, M, heads, 2m + d], zero-padded
    dense_keys, dense_queries, dense_values = dense.split([m, m, values.size(-1)], dim=-1)
    kv = torch.einsum("bnhm,bnhd->bhmd", dense_keys, dense_values)
    numerator = torch.einsum("bnhm,bhmd->bnhd", dense_queries, kv)
    denominator = torch.einsum("bnhm,bhm->bnh", dense_queries, dense_keys.sum(dim=1))
    return (numerator / (denominator.unsqueeze(-1) + eps))[mask]
