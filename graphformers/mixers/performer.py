"""Performer attention: FAVOR+ positive orthogonal random features (Choromanski et al. 2021)."""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch

from graphformers.errors import PartOptionError
from graphformers.mixers.base import GlobalMixer
from graphformers.mixers.kernel_attention import block_linear_attention, from_head_blocks, to_head_blocks
from graphformers.nn.dropout import dropout
from graphformers.registry import register_mixer

FEATURE_FLOOR = 1e-4
"""FAVOR+'s ``eps``, added to every feature before the ``1 / sqrt(m)`` scale, relative to the
stabiliser of :func:`favor_stabilisers` (as performer-pytorch's ``softmax_kernel``, GraphGPS's Performer)."""


RELU_FEATURE_FLOOR = 1e-3
"""``kernel_epsilon`` of performer-pytorch's ``generalized_kernel`` (and PyG's ``PerformerAttention``),
added to every ReLU feature."""

KERNELS = ("softmax", "relu")
"""The Performer's feature maps: FAVOR+'s positive softmax features, or ReLU features (generalised attention)."""


def gaussian_orthogonal_random_matrix(rows: int, cols: int, generator: torch.Generator | None = None) -> Tensor:
    """``[rows, cols]`` random projection (on the CPU): orthogonal blocks of ``cols`` rows, each row
    rescaled to the norm of an independent Gaussian vector, so rows are marginally Gaussian (FAVOR+'s ORF)."""
    blocks = [_haar_orthogonal(cols, generator) for _ in range(math.ceil(rows / cols))]
    norms = torch.randn(rows, cols, generator=generator).norm(dim=1, keepdim=True)
    return norms * torch.cat(blocks)[:rows]


def _haar_orthogonal(size: int, generator: torch.Generator | None) -> Tensor:
    """A uniformly (Haar) distributed orthogonal matrix. LAPACK's QR fixes the signs of ``R``'s
    diagonal, which biases the signs of ``Q``'s columns (the Performer reference code and PyG
    keep that bias, which makes the softmax estimator biased); rescaling by them removes it."""
    q, r = torch.linalg.qr(torch.randn(size, size, generator=generator))
    return (q * torch.sign(torch.diagonal(r))).T


def softmax_kernel_logits(x: Tensor, projection: Tensor) -> tuple[Tensor, Tensor]:
    """``w_r . x' - |x'|^2 / 2`` for ``x' = x / d^(1/4)``, and ``|x'|^2 / 2``: ``[..., d]``, ``[m, d]`` ->
    ``[..., m]``, ``[..., 1]``.

    ``phi(x) = exp(logits) / sqrt(m)`` gives ``E[phi(q) . phi(k)] = exp(q . k / sqrt(d))``. The
    scale is applied to the small projection and the squared norms, and the norms are subtracted by
    the matrix product itself (``addmm``), not in a pass of their own.
    """
    width = x.size(-1)
    rows = x.reshape(-1, width)
    half_norms = rows.pow(2).sum(dim=-1, keepdim=True) * (0.5 * width ** -0.5)
    logits = torch.addmm(half_norms, rows, (projection.to(rows.dtype) * width ** -0.25).T, beta=-1)
    return logits.view(*x.shape[:-1], projection.size(0)), half_norms.view(*x.shape[:-1], 1)


@torch.no_grad()
def favor_stabilisers(logits: Tensor, half_norms: Tensor, heads: int, valid: Tensor | None) -> Tensor:
    """What :func:`positive_features` subtracts, as performer-pytorch's ``softmax_kernel``: for a query,
    its largest projection ``max_r w_r . x'``; for a key, the largest over all keys and features of
    its graph (padded slots excluded). Padded key slots get ``+inf``: their features are exactly 0.

    Args:
        logits (Tensor): :func:`softmax_kernel_logits` of the queries, then the keys.
        half_norms (Tensor): its ``|x'|^2 / 2``.
        heads (int): how many channels of ``logits`` are queries (the rest are keys).
        valid (Tensor, optional): which slots of the block hold a node (:obj:`None`: all).

    Shapes: ``logits [2 heads, G, L, m]``, ``half_norms [2 heads, G, L, 1]``, ``valid [G, L]`` ->
    ``[2 heads, G, L, 1]``.
    """
    query_max, key_max = (logits.amax(dim=-1, keepdim=True) + half_norms).split(heads)  # max_r w_r . x' per row
    if valid is not None:
        key_max = key_max.masked_fill(~valid[..., None], float("-inf"))
    if key_max.size(-2):  # an empty block (a batch without nodes) has no slot to reduce over
        key_max = key_max.amax(dim=-2, keepdim=True).expand_as(query_max)  # per graph
    if valid is not None:
        key_max = key_max.masked_fill(~valid[..., None], float("inf"))
    return torch.cat([query_max, key_max])


def feature_scale(features: int) -> float:
    """FAVOR+'s ``1 / sqrt(m)`` for ``m`` random features."""
    return features ** -0.5


def positive_features(logits: Tensor, stabiliser: Tensor) -> Tensor:
    """``exp(logits - stabiliser) / sqrt(m)``, FAVOR+'s features without their ``eps``
    (:data:`FEATURE_FLOOR`, added by :func:`~graphformers.mixers.kernel_attention.block_linear_attention`'s
    ``feature_floor``). The stabiliser (:func:`favor_stabilisers`) keeps ``exp`` in range; constant per
    query row, or per graph for keys, it cancels but for the floor. ``1 / sqrt(m)`` is folded into it
    (``- log``), which saves a pass; ``exp`` runs in place, which saves a buffer."""
    return (logits - (stabiliser.detach() - math.log(feature_scale(logits.size(-1))))).exp_()


@register_mixer("performer")
class Performer(GlobalMixer):
    """Performer (FAVOR+) linear attention within each graph; O(N m d), no padding of single graphs.

    Approximates softmax attention with ``features`` positive orthogonal random features per
    head, redrawn every ``redraw_interval`` training steps (0: never); ``kernel: relu`` gives
    generalised attention with ReLU features instead. Compared with PyG's ``PerformerAttention``:
    that uses ReLU features (not a softmax estimator), unscaled orthogonal rows, and a dense
    padded batch whose padded keys still enter the normaliser; here padded keys count for nothing.

    ``forward(x [N, hidden], batch [N], data) -> [N, hidden]``.

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
        heads (int): attention heads (``model.heads``), each ``hidden / heads`` wide; must divide
            ``hidden``.
        dropout (float): dropout on the attended values ``[N, heads, hidden / heads]`` before the
            output projection (FAVOR+ never forms attention probabilities to drop;
            ``model.attn_dropout``).
        features (int, optional): random features ``m`` per head (the projection is
            ``[m, hidden / heads]``); more features estimate softmax more closely, at
            O(N m hidden) cost (default: :obj:`64`)
        redraw_interval (int, optional): training steps between redraws of the random
            projection; :obj:`0` never redraws (default: :obj:`1000`)
        kernel (str, optional): ``softmax``: FAVOR+'s positive features, an estimator of softmax
            attention (GraphGPS's Performer); ``relu``: ``ReLU(w_r . x') + 0.001``, the generalised
            attention of performer-pytorch's ``generalized_kernel`` (PyG's ``PerformerAttention``'s
            kernel; PyG omits the ``x' = x / d^(1/4)`` scaling), which is not a softmax estimator and
            skips the exponentials and their stabilisers (default: :obj:`"softmax"`)
    """

    def __init__(self, hidden: int, heads: int, dropout: float, features: int = 64, redraw_interval: int = 1000,
                 kernel: str = "softmax") -> None:
        super().__init__(hidden, heads, dropout)
        if kernel not in KERNELS:
            raise PartOptionError(f"mixer performer: kernel {kernel!r} is not one of {', '.join(KERNELS)}.")
        self.kernel = kernel
        self.head_dim = hidden // heads
        self.redraw_interval = redraw_interval
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.register_buffer("projection", gaussian_orthogonal_random_matrix(features, self.head_dim))
        self.register_buffer("steps_since_redraw", torch.zeros((), dtype=torch.long))
        self._steps_since_redraw = 0  # the buffer's value on the host: deciding to redraw reads no device value
        # Redraws use their own seed sequence, not the global RNG, so every DDP rank (whose global
        # RNGs differ) draws the same projection, and a resumed run redraws what it would have.
        self.register_buffer("redraw_seed", torch.randint(0, 2**62, (), dtype=torch.long))
        self.register_buffer("redraws", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def redraw_features(self) -> None:
        """Draw a fresh random projection (FAVOR+ periodic redraw)."""
        self.redraws += 1
        generator = torch.Generator().manual_seed(hash((int(self.redraw_seed), int(self.redraws))) % 2**63)
        self.projection.copy_(gaussian_orthogonal_random_matrix(*self.projection.shape, generator))
        self.steps_since_redraw.zero_()
        self._steps_since_redraw = 0

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args)
        self._steps_since_redraw = int(self.steps_since_redraw)

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        if self.training and self.redraw_interval > 0:
            if self._steps_since_redraw >= self.redraw_interval:
                self.redraw_features()
            self.steps_since_redraw += 1
            self._steps_since_redraw += 1
        heads, width = self.heads, self.head_dim
        qkv = self.qkv(x).view(x.size(0), 3 * heads, width)  # channels: q of each head, then k, then v
        plan, blocks = to_head_blocks(qkv, data)
        attended = []
        # q, k and v are gathered (3 d channels a head), not the features (2 m + d): the features
        # are computed in the blocks, where each graph's key maximum is a maximum over one axis
        for valid, packed in blocks:  # [3 heads, G, L, d]
            # in float32 (at least) also under autocast: exp of bfloat16 logits would lose the features' precision, and
            # on the CPU this block's elementwise passes ran slower in bfloat16 (generated molecules:
            # 1.26x -> 1.36x PyG)
            with torch.autocast(x.device.type, enabled=False):
                attended.append(self._attend(packed.to(torch.promote_types(packed.dtype, torch.float32)), valid))
        attended = from_head_blocks(attended, plan).to(x.dtype)  # x's type: bfloat16 in bf16-true runs
        attended = dropout(attended, p=self.dropout, training=self.training)
        return self.out(attended.flatten(1))

    def _attend(self, packed: Tensor, valid: Tensor | None) -> Tensor:
        """FAVOR+ within one block: ``packed [3 heads, G, L, d]`` (q, k, v), ``valid [G, L]`` (None: no
        padding) -> ``[heads, G, L, d]``."""
        heads = self.heads
        query_key, values = packed.split([2 * heads, heads])  # split, not slices: its backward is one cat
        if self.kernel == "relu":
            width = query_key.size(-1)
            logits = query_key.reshape(-1, width) @ (self.projection.to(query_key.dtype) * width ** -0.25).T
            queries, keys = torch.relu(logits).view(*query_key.shape[:-1], -1).split(heads)
            return block_linear_attention(queries, keys, values, valid, feature_floor=RELU_FEATURE_FLOOR)
        logits, half_norms = softmax_kernel_logits(query_key, self.projection)  # [2 heads, G, L, m], [.., 1]
        stabilisers = favor_stabilisers(logits, half_norms, heads, valid)
        queries, keys = positive_features(logits, stabilisers).split(heads)  # queries and keys in one pass
        return block_linear_attention(queries, keys, values, valid,
                                      feature_floor=FEATURE_FLOOR * feature_scale(self.projection.size(0)))
