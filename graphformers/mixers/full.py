"""Exact multi-head softmax attention within each graph (Vaswani et al. 2017; GraphGPS's ``Transformer``)."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch

from graphformers.errors import GraphTooLargeError
from graphformers.mixers.packed_attention import packed_attention
from graphformers.mixers.pair_bias import PairBiasedMixer
from graphformers.mixers.size_groups import SizeBlock, from_channel_blocks, plan_of, to_channel_blocks
from graphformers.mixers.softmax_attention import block_attention
from graphformers.pair_encodings.all_pairs import AllPairs, all_pairs_of, pair_values
from graphformers.registry import register_mixer


@register_mixer("full")
class FullAttention(PairBiasedMixer):
    """Exact softmax attention among the nodes of each graph; O(sum N_i^2) per batch.

    Q, K and V come from one fused projection of the packed nodes; graphs of similar size (the
    batch's plan, :func:`~graphformers.mixers.size_groups.plan_of`) are gathered into one padded
    block each and attended with ``scaled_dot_product_attention``
    (:func:`~graphformers.mixers.softmax_attention.block_attention`; padded keys masked; blocks of
    equal-size graphs need no mask, which lets PyTorch pick its fused kernels). On the CPU with
    attention dropout (and no ``bias``), everything between the two projections is one autograd
    function, :func:`~graphformers.mixers.packed_attention.packed_attention`: the same values, and
    a layer's forward and backward on 128 small molecules took 18 -> 13 ms. Gathers and writes use
    integer indices only, so a step on an accelerator never waits for the host. Nodes must be
    ordered by graph, as in every PyG ``Batch``. Graphs above ``max_nodes`` are refused
    (:meth:`check_graph_size`).

    With ``bias``, Graphormer's spatial encoding (Ying et al. 2021, eq. 6): a learned scalar per head
    is added to the score of every pair, from the named pair encoding (``model.pair_encodings``): an
    embedding of its category for categorical encodings (``spd``: one per distance), a linear map
    of its channels otherwise. It goes to ``scaled_dot_product_attention`` as the float mask of each
    size block (``-inf`` on padded keys).

    ``forward(x [N, hidden], batch [N], data) -> [N, hidden]``; :meth:`attention_weights` gives
    each graph's attention probabilities ``[heads, n_i, n_i]`` for inspection (without a bias).

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
        heads (int): attention heads (``model.heads``), each ``hidden / heads`` wide; must divide
            ``hidden``.
        dropout (float): dropout on the attention probabilities (the softmax weights
            ``[G, heads, L, L]`` of each padded block: ``scaled_dot_product_attention``'s
            ``dropout_p``, in training only; ``model.attn_dropout``).
        max_nodes (int, optional): largest graph accepted; a larger one raises
            :class:`GraphTooLargeError` before training (default: :obj:`100000`)
        bias (str, optional): the pair encoding whose learned per-head bias is added to the scores
            (``spd``: Graphormer's); :obj:`None`: no bias (default: :obj:`None`)
    """

    def __init__(self, hidden: int, heads: int, dropout: float, max_nodes: int = 100_000,
                 bias: str | None = None) -> None:
        super().__init__(hidden, heads, dropout, bias=bias, bias_channels=heads, label="mixer full")
        self.max_nodes = max_nodes
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)

    def init_bias_embedding(self, embedding: nn.Embedding) -> None:
        """Graphormer's initialisation of the spatial encoding's embedding: normal, std 0.02."""
        nn.init.normal_(embedding.weight, std=0.02)

    def check_graph_size(self, num_nodes: int) -> None:
        """Refuse graphs above ``max_nodes``: exact attention costs N^2 per head and layer (at 10^5
        nodes ~100 s per layer step on 2 CPU cores; fused kernels keep memory linear, others need
        the N^2 scores)."""
        if num_nodes > self.max_nodes:
            scores = num_nodes * num_nodes * self.heads
            raise GraphTooLargeError(
                f"full attention on a graph of {num_nodes:,} nodes: {scores:,} attention scores per layer "
                f"({scores * 4 / 2**30:,.0f} GiB where they are materialised: without a fused kernel, or to "
                f"inspect attention), and time growing as N^2. Use a linear mixer (performer, exphormer, "
                f"polynormer), split the graph with data.node_parts, or raise model.mixer's max_nodes "
                f"({self.max_nodes:,}).")

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        plan = plan_of(data)
        pair_bias = self._pair_bias(data) if self.bias is not None else None
        heads, width = self.heads, self.hidden // self.heads
        for block in plan.blocks:
            self.check_graph_size(block.index.size(1))
        dropout = self.dropout if self.training else 0.0
        if pair_bias is None and dropout > 0.0 and x.device.type == "cpu":
            return self.out(packed_attention(self.qkv(x), plan, heads, dropout))
        qkv = self.qkv(x).view(x.size(0), 3 * heads, width)  # channels: q of each head, then k, then v
        attended = []
        for block, packed in zip(plan.blocks, to_channel_blocks(qkv, plan),
                                 strict=True):  # [3 heads, G, L, d], largest first
            mask = None if block.complete else block.valid[:, None, None, :]
            if pair_bias is not None:
                mask = self._block_bias(block, *pair_bias)
            # [G, heads, L, d] views of heads-first memory: block_attention batches them without copies
            q, k, v = packed.view(3, heads, *packed.shape[1:]).transpose(1, 2)
            values = block_attention(q, k, v, mask, dropout)
            attended.append(values.transpose(0, 1))  # [heads, G, L, d]
        return self.out(from_channel_blocks(attended, plan).flatten(1))

    def _pair_bias(self, data: Batch) -> tuple[AllPairs, Tensor]:
        """The batch's pairs and each pair's ``[P, heads]`` bias."""
        encoding, encoder = self.require_bias()
        plan = all_pairs_of(data)
        return plan, encoder(pair_values(data, encoding, plan))

    @staticmethod
    def _block_bias(block: SizeBlock, plan: AllPairs, pair_bias: Tensor) -> Tensor:
        """``[G, heads, L, L]`` float mask of a block: each real pair's bias, ``-inf`` on padded keys
        (padded slots index node 0, so every position stays within the batch's pairs)."""
        positions = plan.row_start[block.index][:, :, None] + block.index[:, None, :]  # [G, L, L]
        # heads-first memory ([heads, G, L, L]), seen as [G, heads, L, L]: the layout block_attention batches
        bias = pair_bias.index_select(0, positions.flatten()).view(*positions.shape, -1).permute(3, 0, 1, 2)
        if not block.complete:
            bias = bias.masked_fill(~block.valid[None, :, None, :], float("-inf"))
        return bias.contiguous().transpose(0, 1)

    @torch.no_grad()
    def attention_weights(self, x: Tensor, batch: Tensor) -> list[Tensor]:
        """Each graph's attention probabilities ``[heads, n_i, n_i]`` (row = query node), for
        inspection: the same projection and scaling as :meth:`forward`, without dropout."""
        q, k, _ = self._project(x)
        sizes = torch.bincount(batch).tolist()
        return [torch.softmax(torch.einsum("nhd,mhd->hnm", q_i, k_i) / q_i.size(-1) ** 0.5, dim=-1)
                for q_i, k_i in zip(q.split(sizes), k.split(sizes), strict=True)]

    def _project(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Queries, keys and values from one fused projection, each ``[N, heads, hidden / heads]``."""
        return self.qkv(x).view(x.size(0), 3, self.heads, -1).unbind(1)
