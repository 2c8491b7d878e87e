"""The Attention Free Transformer (Zhai et al. 2021) within each graph, its pairwise bias read from a
pair encoding."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.utils import scatter

from graphformers.errors import GraphTooLargeError
from graphformers.mixers.pair_bias import PairBiasedMixer
from graphformers.nn.dropout import dropout
from graphformers.registry import register_mixer
from graphformers.resources import MEMORY_SHARE, machine_memory_bytes


@register_mixer("aft")
class AttentionFreeTransformer(PairBiasedMixer):
    """AFT: every channel attends by a softmax over the graph's keys, with no dot products, O(N d).

    AFT-simple (the default) is ``y_i = sigmoid(q_i) * sum_j softmax_j(k)_j * v_j`` per channel, the
    softmax over the nodes ``j`` of ``i``'s graph: linear and permutation-equivariant. With ``bias``,
    AFT-full: ``y_i = sigmoid(q_i) * sum_j exp(k_j + w_ij) v_j / sum_j exp(k_j + w_ij)``, its pairwise
    bias ``w_ij`` a learned per-channel function of the named pair encoding (an embedding of ``spd``'s
    distance, a linear map of ``rrwp``'s channels). Pairs the encoding does not store (farther than its
    ``hops``) hold its fill value, so their bias is one learned constant per channel, which cancels
    in the ratio: the cost is O(N d + P d) for the ``P`` stored pairs (``N^2`` of them for ``spd`` and
    ``resistance``, which store every pair: then each target's softmax runs over its stored pairs). Queries, keys and
    values are linear maps of the node states and the output passes a linear map.

    ``forward(x [N, hidden], batch [N], data) -> [N, hidden]``.

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
        heads (int): not read: AFT mixes every channel on its own (``model.heads``).
        dropout (float): dropout on the mixed values before the output map (``model.attn_dropout``).
        bias (str, optional): the pair encoding whose learned function is the pairwise bias
            (``model.pair_encodings`` must list it); :obj:`None`: AFT-simple (default: :obj:`None`)
    """

    def __init__(self, hidden: int, heads: int, dropout: float, bias: str | None = None) -> None:
        super().__init__(hidden, heads, dropout, bias=bias, bias_channels=hidden, label="mixer aft")
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)

    def init_bias_embedding(self, embedding: nn.Embedding) -> None:
        """Zeros: AFT-full starts as AFT-simple."""
        nn.init.zeros_(embedding.weight)

    def check_graph_size(self, num_nodes: int) -> None:
        """With a bias from an encoding of all pairs (``spd``, ``resistance``), refuse a graph whose
        ``[n^2, hidden]`` pair terms (bias, weights, weighted values: three, kept for the backward pass)
        exceed half this machine's memory; AFT-simple and hop-limited encodings are linear in n."""
        if self.bias_encoding is None or self.bias_encoding.hops is not None:
            return
        needed = 3 * num_nodes * num_nodes * self.hidden * 4
        budget = int(machine_memory_bytes() * MEMORY_SHARE)
        if needed > budget:
            raise GraphTooLargeError(
                f"mixer aft with bias {self.bias!r} on a graph of {num_nodes:,} nodes: {self.bias} stores all "
                f"{num_nodes ** 2:,} pairs, and their bias terms take about {needed / 2**30:,.1f} GiB per layer, "
                f"above the {budget / 2**30:,.1f} GiB a run may use here; use AFT-simple (no bias), a hop-limited "
                f"encoding (rrwp), or split the graph with data.node_parts.")

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        query, key, value = self.qkv(x).chunk(3, dim=-1)
        if self.bias is None:
            numerator, denominator = _graph_sums(key, value, batch, int(data.num_graphs))
        elif self.require_bias()[0].hops is None:
            numerator, denominator = self._over_stored_pairs(key, value, data)
        else:
            numerator, denominator = self._with_unstored_pairs(key, value, batch, data)
        mixed = torch.sigmoid(query) * (numerator / denominator).to(query.dtype)
        return self.out(dropout(mixed, p=self.dropout, training=self.training))

    def _pair_bias(self, data: Batch) -> tuple[Tensor, Tensor, Tensor]:
        """``(source [P], target [P], w_ij - w_fill [P, hidden])`` of the stored pairs."""
        encoding, encoder = self.require_bias()
        source, target = data[f"{encoding.key}_index"]
        values = data[f"{encoding.key}_attr"]
        fill = values.new_full((1, values.size(-1)), encoding.fill)
        return source, target, encoder(values) - encoder(fill)

    def _over_stored_pairs(self, key: Tensor, value: Tensor, data: Batch) -> tuple[Tensor, Tensor]:
        """AFT-full where every pair is stored: a softmax over each target's pairs, shifted by its largest
        ``k_j + w_ij`` (exact, as a GAT's softmax over edges)."""
        source, target, bias = self._pair_bias(data)
        logits = key.index_select(0, source) + bias
        shift = scatter(logits.detach(), target, dim=0, dim_size=key.size(0), reduce="max")
        weights = (logits - shift.index_select(0, target)).exp()
        sums = scatter(torch.cat([weights * value.index_select(0, source), weights], dim=-1), target, dim=0,
                       dim_size=key.size(0), reduce="sum")
        return sums.chunk(2, dim=-1)

    def _with_unstored_pairs(self, key: Tensor, value: Tensor, batch: Tensor, data: Batch) -> tuple[Tensor, Tensor]:
        """AFT-full where pairs beyond the encoding's hops share the fill's bias (which cancels): each
        target's sums over its whole graph, less its stored pairs' plain terms, plus their biased terms.
        Computed in float64, so that the difference keeps its digits where the stored pairs hold most of
        the graph's weight, each target shifted by ``max(0, largest k_j - m_g + w_ij)`` so no term overflows."""
        source, target, bias = self._pair_bias(data)
        key, value, bias = key.double(), value.double(), bias.double()
        numerator, denominator = _graph_sums(key, value, batch, int(data.num_graphs))  # shifted by m_g per graph
        plain = (key - scatter(key.detach(), batch, dim=0, dim_size=int(data.num_graphs),
                               reduce="max").index_select(0, batch)).index_select(0, source)  # k_j - m_g
        shift = scatter((plain + bias).detach(), target, dim=0, dim_size=key.size(0), reduce="max").clamp_min(0)
        shift_of_pair = shift.index_select(0, target)
        plain_weights, biased_weights = (plain - shift_of_pair).exp(), (plain + bias - shift_of_pair).exp()
        source_values = value.index_select(0, source)
        stored = scatter(torch.cat([(biased_weights - plain_weights) * source_values, biased_weights,
                                    plain_weights], dim=-1), target, dim=0, dim_size=key.size(0), reduce="sum")
        extra_numerator, biased, unbiased = stored.split(value.size(-1), dim=-1)
        scale = (-shift).exp()
        unstored = (denominator * scale - unbiased).clamp_min(0)
        return numerator * scale + extra_numerator, unstored + biased


def _graph_sums(key: Tensor, value: Tensor, batch: Tensor, num_graphs: int) -> tuple[Tensor, Tensor]:
    """Each node's graph's ``sum_j exp(k_j - m_g) v_j`` and ``sum_j exp(k_j - m_g)``, ``m_g`` the graph's
    largest key per channel (it cancels in the ratio and keeps ``exp`` finite): ``[N, d]`` each."""
    key = key - scatter(key.detach(), batch, dim=0, dim_size=num_graphs, reduce="max").index_select(0, batch)
    weights = key.exp()
    sums = scatter(torch.cat([weights * value, weights], dim=-1), batch, dim=0, dim_size=num_graphs, reduce="sum")
    return sums.index_select(0, batch).chunk(2, dim=-1)
