"""Link prediction inside each graph (LRGB's PCQM-Contact): dot-product pair scores, training pairs
with freshly sampled negatives, and LRGB's mean reciprocal rank.

Graphs carry ``edge_label_index [2, P]`` (the pairs to predict, both directions of each contact)
and optionally ``edge_label [P]`` (1 positive, 0 negative; absent means all positive).
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch
from torch_geometric.utils import batched_negative_sampling, scatter, to_dense_adj, to_dense_batch

NEGATIVES_PER_POSITIVE = 2.0
"""GraphGPS/LRGB resample two negatives per positive pair every time a graph is drawn."""


def positive_pairs(batch: Batch) -> Tensor:
    """``[2, P]`` the batch's positive pairs (node indices into the batch)."""
    pairs = batch.edge_label_index
    if "edge_label" in batch:
        pairs = pairs[:, batch.edge_label == 1]
    return pairs


def training_pairs(batch: Batch) -> tuple[Tensor, Tensor]:
    """Positive pairs plus ``NEGATIVES_PER_POSITIVE`` random non-positive pairs per positive, each
    inside its own graph (PyG's ``batched_negative_sampling``, redrawn on every call), and their
    ``[P']`` 0/1 labels."""
    positives = positive_pairs(batch)
    negatives = batched_negative_sampling(positives, batch.batch, num_neg_samples=NEGATIVES_PER_POSITIVE)
    labels = torch.cat([torch.ones(positives.size(1)), torch.zeros(negatives.size(1))]).to(positives.device)
    return torch.cat([positives, negatives], dim=1), labels


def pair_scores(embeddings: Tensor, pairs: Tensor) -> Tensor:
    """``[P]`` dot products of the ``[N, d]`` node embeddings at each pair (GraphGPS's ``dot`` decoding)."""
    return (embeddings[pairs[0]] * embeddings[pairs[1]]).sum(dim=-1)


def reciprocal_ranks_per_graph(embeddings: Tensor, batch: Batch, filtered: bool = False) -> Tensor:
    """``[G]`` mean reciprocal rank of each graph that has positive pairs (LRGB's MRR).

    Each positive pair ``(i, j)`` is ranked by its score among ``i``'s scores with every node ``k != j``
    of the same graph (``k = i`` included, as in LRGB). Raw MRR (LRGB's reported metric) counts ``i``'s
    other positive partners as competitors; ``filtered`` (Toenshoff et al. 2023) removes them. Ties
    share the mean of their ranks (LRGB's ``argsort`` breaks them arbitrarily).
    """
    dense, node_mask = to_dense_batch(embeddings, batch.batch)  # [B, n, d], [B, n]
    scores = dense @ dense.transpose(1, 2)  # [B, n, n]
    positives = positive_pairs(batch)
    graph = batch.batch[positives[0]]
    source, target = positives - batch.ptr[graph]
    rows = scores[graph, source]  # [P, n]
    positive_score = rows.gather(1, target.view(-1, 1))
    competitors = node_mask[graph].clone()
    competitors[torch.arange(target.numel(), device=target.device), target] = False
    if filtered:
        is_positive = to_dense_adj(positives, batch.batch, max_num_nodes=dense.size(1)).bool()
        competitors &= ~is_positive[graph, source]
    above = ((rows > positive_score) & competitors).sum(dim=1)
    tied = ((rows == positive_score) & competitors).sum(dim=1)
    reciprocal = 1.0 / (1.0 + above + tied / 2.0)
    per_graph = scatter(reciprocal, graph, dim=0, dim_size=batch.num_graphs, reduce="mean")
    has_positives = torch.zeros(batch.num_graphs, dtype=torch.bool, device=graph.device)
    has_positives[graph] = True
    return per_graph[has_positives]
