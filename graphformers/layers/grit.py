"""GRIT's attention and layer (Ma et al. 2023, "Graph Inductive Biases in Transformers without
Message Passing"; LiamMa/GRIT ``grit/layer/grit_layer.py``): attention over all node pairs of each
graph, conditioned on pair states that every layer updates, with a degree scaler."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter, softmax

from graphformers.errors import check_heads_divide
from graphformers.nn.dropout import Dropout, dropout
from graphformers.nn.norms import make_norm


class _SignedSqrt(torch.autograd.Function):
    """``sign(x) sqrt(|x|)`` in three passes over ``x`` forward and four backward, where the reference's
    ``sqrt(relu(x)) - sqrt(relu(-x))`` takes six and about eight (on ``[pairs, hidden]`` tensors these
    elementwise passes, not the matrix products, bound a CPU step); same values and gradients."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor) -> Tensor:
        y = x.abs().sqrt_().copysign_(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        magnitude = y.abs()
        return torch.where(magnitude > 0, grad / (2 * magnitude), 0.0)


def signed_sqrt(x: Tensor) -> Tensor:
    """``sign(x) sqrt(|x|)``, elementwise, with GRIT's gradient: ``1 / (2 sqrt|x|)``, and 0 at ``x = 0``
    (where the reference's ``relu``s mask the infinite slope)."""
    return _SignedSqrt.apply(x)


class GRITAttention(nn.Module):
    """GRIT's multi-head attention over pairs, its eqs. (1)-(3): for target ``i`` and source ``j``,

    ``e'_ij = relu(W_Ew e_ij * signed_sqrt(W_Q x_i + W_K x_j) + W_Eb e_ij)`` (per head, ``hidden / heads`` wide),
    ``a_ij = softmax_j(clamp(w_A . e'_ij, +-clamp))``,
    ``x'_i = sum_j a_ij W_V x_j + W_Ev sum_j a_ij e'_ij``;

    ``e'`` (all heads, ``[P, hidden]``) is the pair update. The signed square root applies to the
    product, as the reference code does. Pairs are any ``[2, P]`` list (``(source, target)``), usually every
    ordered pair of each graph (:class:`~graphformers.pair_encodings.all_pairs.AllPairs`).

    ``forward(x [N, hidden], pairs [P, hidden], index [2, P]) -> ([N, hidden], [P, hidden])``.

    Args:
        hidden (int): width of node and pair states.
        heads (int): attention heads; must divide ``hidden``.
        dropout (float): dropout on the attention weights ``a_ij`` (GRIT's ``attn_dropout``).
        clamp (float, optional): scores are clamped to ``[-clamp, clamp]`` before the softmax (default: :obj:`5.0`)
    """

    def __init__(self, hidden: int, heads: int, dropout: float, clamp: float = 5.0) -> None:
        super().__init__()
        check_heads_divide(hidden, heads, type(self).__name__)
        self.heads, self.head_dim, self.clamp = heads, hidden // heads, abs(clamp)
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden, bias=False)
        self.value = nn.Linear(hidden, hidden, bias=False)
        self.pair = nn.Linear(hidden, 2 * hidden)
        for linear in (self.query, self.key, self.value, self.pair):
            nn.init.xavier_normal_(linear.weight)
        self.score = nn.Parameter(nn.init.xavier_normal_(torch.empty(self.head_dim, heads, 1)))
        self.pair_value = nn.Parameter(nn.init.xavier_normal_(torch.empty(self.head_dim, heads, self.head_dim)))
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor, pairs: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
        source, target = index
        shape = (-1, self.heads, self.head_dim)
        weight, bias = self.pair(pairs).view(-1, self.heads, 2 * self.head_dim).split(self.head_dim, dim=-1)
        keys, queries = self.key(x).view(shape), self.query(x).view(shape)
        updated = (keys.index_select(0, source) + queries.index_select(0, target)) * weight
        updated = torch.relu(signed_sqrt(updated) + bias)  # [P, heads, head_dim]
        scores = torch.einsum("phd,dhc->phc", updated, self.score).clamp(-self.clamp, self.clamp)
        weights = self.dropout(softmax(scores, target, num_nodes=x.size(0)))  # [P, heads, 1]
        attended = scatter(self.value(x).view(shape).index_select(0, source) * weights, target, 0, x.size(0),
                           reduce="sum")
        pair_sum = scatter(updated * weights, target, 0, x.size(0), reduce="sum")
        attended = attended + torch.einsum("nhd,dhc->nhc", pair_sum, self.pair_value)
        return attended.flatten(1), updated.flatten(1)


class GRITLayer(nn.Module):
    """One GRIT layer: :class:`GRITAttention`, dropout, the degree scaler
    ``h * theta_1 + h * log(1 + d_i) * theta_2`` (per channel), output projections of nodes and
    pairs, residuals and norms on both, then a node FFN with residual and norm (GRIT's
    ``GritTransformerLayer`` with its recipes' settings: residual, ``O_e``, ``norm_e``).

    ``forward(x [N, hidden], pairs [P, hidden], index [2, P], log_degree [N, 1]) -> ([N, hidden], [P, hidden])``.

    Args:
        hidden (int): width of node and pair states.
        heads (int): attention heads.
        dropout (float): dropout after attention (nodes and pairs) and inside the FFN.
        attn_dropout (float): dropout on the attention weights.
        norm (str): ``batch``, ``layer`` or ``none``, on node and pair states.
        ffn_ratio (int): FFN width as a multiple of ``hidden``.
        clamp (float): score clamp of the attention.
        degree_scaler (bool): apply the degree scaler.
        update_pairs (bool): pass the updated pair states on (else the layer's input pairs).
    """

    def __init__(self, hidden: int, heads: int, dropout: float, attn_dropout: float, norm: str, ffn_ratio: int,
                 clamp: float, degree_scaler: bool, update_pairs: bool) -> None:
        super().__init__()
        self.attention = GRITAttention(hidden, heads, attn_dropout, clamp)
        self.degree_coefficients = (nn.Parameter(nn.init.xavier_normal_(torch.empty(1, hidden, 2)))
                                    if degree_scaler else None)
        self.node_out, self.pair_out = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.node_norm, self.pair_norm, self.ffn_norm = (make_norm(norm, hidden) for _ in range(3))
        self.ffn = nn.Sequential(nn.Linear(hidden, ffn_ratio * hidden), nn.ReLU(), Dropout(dropout),
                                 nn.Linear(ffn_ratio * hidden, hidden))
        self.dropout, self.update_pairs = dropout, update_pairs

    def forward(self, x: Tensor, pairs: Tensor, index: Tensor, log_degree: Tensor) -> tuple[Tensor, Tensor]:
        attended, updated = self.attention(x, pairs, index)
        h = dropout(attended, self.dropout, self.training)
        if self.degree_coefficients is not None:
            h = h * self.degree_coefficients[..., 0] + h * log_degree * self.degree_coefficients[..., 1]
        h = self.node_norm(x + self.node_out(h))
        h = self.ffn_norm(h + self.ffn(h))
        if not self.update_pairs:
            return h, pairs
        return h, self.pair_norm(pairs + self.pair_out(dropout(updated, self.dropout, self.training)))
