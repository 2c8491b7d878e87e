"""The Attention Free Transformer (Zhai et al. 2021) within each graph, its pairwise bias read from a
pair encoding."""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.utils import scatter

from graphformers.mixers.base import GlobalMixer
from graphformers.nn.dropout import dropout
from graphformers.pair_encodings.base import PairEncoding
from graphformers.pair_encodings.value_encoder import PairValueEncoder, named_bias
from graphformers.registry import register_mixer


@register_mixer("aft")
class AttentionFreeTransformer(GlobalMixer):
    """AFT: every channel attends by a softmax over the graph's keys, with no dot products, O(N d).

    AFT-simple (the default) is ``y_i = sigmoid(q_i) * sum_j softmax_j(k)_j * v_j`` per channel, the
    softmax over the nodes ``j`` of ``i``'s graph: linear and permutation-equivariant. With ``bias``,
    AFT-full: ``y_i = sigmoid(q_i) * sum_j exp(k_j + w_ij) v_j / sum_j exp(k_j + w_ij)``, its pairwise
    bias ``w_ij`` a learned per-channel function of the named pair encoding (an embedding of ``spd``'s
    distance, a linear map of ``rrwp``'s channels). Pairs the encoding does not store (farther than its
    ``hops``) hold its fill value, so their bias is one learned constant per channel, which cancels
    in the ratio: the cost is O(N d + P d) for the ``P`` stored pairs, never ``N^2``. Queries, keys and
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
        super().__init__(hidden, heads, dropout)
        self.bias = bias
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.bias_encoding: PairEncoding | None = None
        self.bias_encoder: PairValueEncoder | None = None

    def use_pair_encodings(self, encodings: Mapping[str, PairEncoding]) -> None:
        """Build the bias's map of the pair encoding ``bias`` names."""
        if self.bias is None:
            return
        self.bias_encoding, self.bias_encoder = named_bias("mixer aft", self.bias, encodings, self.hidden)
        if self.bias_encoder.categorical:
            nn.init.zeros_(self.bias_encoder.map.weight)  # AFT-full starts as AFT-simple

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        query, key, value = self.qkv(x).chunk(3, dim=-1)
        num_graphs = int(data.num_graphs)
        # each graph's largest key per channel cancels in the ratio; subtracting it keeps exp finite
        key = key - scatter(key.detach(), batch, dim=0, dim_size=num_graphs, reduce="max").index_select(0, batch)
        weights = key.exp()
        sums = scatter(torch.cat([weights * value, weights], dim=-1), batch, dim=0, dim_size=num_graphs, reduce="sum")
        numerator, denominator = sums.index_select(0, batch).chunk(2, dim=-1)
        if self.bias_encoder is not None:
            numerator, denominator = self._add_pair_bias(numerator, denominator, weights, value, data)
        mixed = torch.sigmoid(query) * numerator / denominator
        return self.out(dropout(mixed, p=self.dropout, training=self.training))

    def _add_pair_bias(self, numerator: Tensor, denominator: Tensor, weights: Tensor, value: Tensor,
                       data: Batch) -> tuple[Tensor, Tensor]:
        """Each stored pair's ``(exp(w_ij - w_fill) - 1) exp(k_j) [v_j, 1]`` added to its target's sums."""
        encoding = self.bias_encoding
        source, target = data[f"{encoding.key}_index"]
        values = data[f"{encoding.key}_attr"]
        fill = values.new_full((1, values.size(-1)), encoding.fill)
        excess = torch.expm1(self.bias_encoder(values) - self.bias_encoder(fill)) * weights.index_select(0, source)
        added = torch.cat([excess * value.index_select(0, source), excess], dim=-1)
        extra = scatter(added, target, dim=0, dim_size=weights.size(0), reduce="sum")
        extra_numerator, extra_denominator = extra.chunk(2, dim=-1)
        return numerator + extra_numerator, denominator + extra_denominator
