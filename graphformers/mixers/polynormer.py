"""Polynormer's global attention (Deng et al. 2024): sigmoid-kernel linear attention with polynomial gating."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch

from graphformers.mixers.base import GlobalMixer
from graphformers.mixers.kernel_attention import per_graph_linear_attention
from graphformers.nn.dropout import dropout
from graphformers.registry import register_mixer


@register_mixer("polynormer")
class PolynormerAttention(GlobalMixer):
    """Polynormer global attention: ``ReLU(W_o (LN(att(x)) * (W_h x + beta)))``, O(N d^2 / heads).

    ``att`` is linear attention with ``sigmoid`` query/key features within each graph;
    multiplying by the linear gate ``W_h x + beta`` raises the polynomial degree of the
    layer in its input. Differences from PyG's ``PolynormerAttention``: heads split
    ``hidden`` (PyG gives each head ``head_channels`` more), and graphs are never padded
    into one another's normaliser (PyG's padded keys, ``sigmoid(bias)``, are summed in).

    ``forward(x [N, hidden], batch [N], data) -> [N, hidden]``.

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
        heads (int): attention heads (``model.heads``), each ``hidden / heads`` wide; must divide
            ``hidden``.
        dropout (float): dropout on the mixer's output ``[N, hidden]``, after its final ReLU
            (linear attention forms no attention probabilities to drop; ``model.attn_dropout``).
        beta (float, optional): constant added to the linear gate ``W_h x + beta``
            (default: :obj:`0.9`)
        qk_shared (bool, optional): queries reuse the keys' projection, ``sigmoid(W_k x)``, as in
            Polynormer; :obj:`False` learns a separate query projection (default: :obj:`True`)
    """

    def __init__(self, hidden: int, heads: int, dropout: float, beta: float = 0.9, qk_shared: bool = True) -> None:
        super().__init__(hidden, heads, dropout)
        self.beta = beta
        self.gate = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.query = None if qk_shared else nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.out = nn.Linear(hidden, hidden)

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        shape = (x.size(0), self.heads, self.hidden // self.heads)
        keys = torch.sigmoid(self.key(x)).view(shape)
        queries = keys if self.query is None else torch.sigmoid(self.query(x)).view(shape)
        attended = per_graph_linear_attention(queries, keys, self.value(x).view(shape), data)
        gated = self.norm(attended.reshape(x.size(0), self.hidden)) * (self.gate(x) + self.beta)
        return dropout(F.relu(self.out(gated)), p=self.dropout, training=self.training)
