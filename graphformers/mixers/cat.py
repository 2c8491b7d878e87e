"""CAT, circular-convolutional attention (Yamada 2025), over each graph's ordered nodes."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch

from graphformers.mixers.sequence import OrderedMixer, from_sequences, to_sequences
from graphformers.nn.dropout import dropout
from graphformers.registry import register_mixer


@register_mixer("cat")
class CircularConvolutionalAttention(OrderedMixer):
    """CAT: values mixed by circular convolution with softmax scores along each graph's order, O(n log n).

    One projection per head scores each node, ``z = softmax(x W_A)`` over the graph's nodes, and the
    values are mixed by circular convolution with those scores along the graph's node order:
    ``y_i = sum_j z_((i - j) mod n) v_j`` (``IFFT(FFT(z) * FFT(V))``), O(n log n) per graph instead of
    attention's n^2; then an output map. Queries and keys are replaced by the one map
    ``W_A``, so the mixing weights of a node pair depend on the nodes' distance in the order.

    Each graph is its own circle of ``n`` nodes (``model.ordering`` sets where each node sits).
    Graphs of similar size share a block, padded to its longest; the padding is left out of the
    softmax and the sums, and each graph wraps around at its own ``n``: the FFTs are taken at twice
    the block's length, which gives the linear convolution, and ``y_i`` adds its parts at ``i`` and
    ``i + n``. FFTs run in float32 also under mixed precision.

    ``forward(x [N, hidden], batch [N], data) -> [N, hidden]``.

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
        heads (int): heads (``model.heads``): each has its own scores and ``hidden / heads`` channels.
        dropout (float): dropout on the mixing weights ``z`` (``model.attn_dropout``).
        eval_orderings (int, optional): orderings averaged at evaluation (default: :obj:`1`)
    """

    def __init__(self, hidden: int, heads: int, dropout: float, eval_orderings: int = 1) -> None:
        super().__init__(hidden, heads, dropout, eval_orderings)
        self.scores = nn.Linear(hidden, heads)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)

    def mix_sequences(self, x: Tensor, data: Batch) -> Tensor:
        packed = torch.cat([self.scores(x), self.value(x)], dim=-1)
        plan, blocks = to_sequences(packed, data)
        mixed = [self._convolved(valid, block) for valid, block in blocks]
        return self.out(from_sequences(mixed, plan).to(x.dtype))

    def _convolved(self, valid: Tensor | None, block: Tensor) -> Tensor:
        """``[G, L, heads + hidden]`` (scores, values) -> ``[G, L, hidden]`` mixed values."""
        graphs, length = block.shape[:2]
        block = block.float()
        logits, values = block.split([self.heads, self.hidden], dim=-1)
        values = values.reshape(graphs, length, self.heads, -1)
        if valid is not None:
            logits = logits.masked_fill(~valid[..., None], float("-inf"))
            values = values * valid[..., None, None]
            sizes = valid.sum(dim=1)
        else:
            sizes = torch.full((graphs,), length, device=block.device)
        weights = dropout(torch.softmax(logits, dim=1), p=self.dropout, training=self.training)  # [G, L, heads]
        spectrum = torch.fft.rfft(weights, n=2 * length, dim=1)[..., None] * torch.fft.rfft(values, n=2 * length, dim=1)
        linear = torch.fft.irfft(spectrum, n=2 * length, dim=1)  # [G, 2L, heads, w]: the linear convolution
        wrapped = (torch.arange(length, device=block.device) + sizes[:, None]).clamp_max(2 * length - 1)
        folded = linear[:, :length] + linear.gather(1, wrapped[:, :, None, None].expand(-1, -1, *linear.shape[2:]))
        return folded.reshape(graphs, length, self.hidden)
