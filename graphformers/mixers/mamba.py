"""Graph-Mamba's mixer (Wang et al. 2024): a selective state-space scan over each graph's ordered nodes."""
from __future__ import annotations

import importlib.util

import torch
from mambapy.mamba import MambaBlock, MambaConfig
from mambapy.pscan import pscan
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint
from torch_geometric.data import Batch

from graphformers.errors import GraphTooLargeError, PartOptionError, check_positive
from graphformers.mixers.sequence import OrderedMixer, from_sequences, reversed_within_graphs, to_sequences
from graphformers.nn.dropout import dropout
from graphformers.registry import register_mixer
from graphformers.resources import MEMORY_SHARE, machine_memory_bytes

CUDA_EXTRA = "pip install 'graphformers[mamba-cuda]'"
"""How the CUDA kernels are installed (the ``mamba-ssm`` package, through graphformers' extra)."""

SCAN_CHUNK = 1024
"""Sequences longer than this are scanned in chunks of this many steps (:func:`chunked_selective_scan`)."""


def chunked_selective_scan(u: Tensor, delta: Tensor, a: Tensor, b: Tensor, c: Tensor, d: Tensor,
                           chunk: int = SCAN_CHUNK) -> Tensor:
    """Mamba's selective scan ``h_t = exp(delta_t a) h_(t-1) + delta_t b_t u_t``, ``y_t = c_t h_t + d u_t``,
    chunk by chunk, each chunk's state ``[G, d_inner, state]`` carried into the next and each chunk
    recomputed in the backward pass (activation checkpointing). mambapy's scan keeps ``exp(delta a)``
    and the states of every step, ``[G, L, d_inner, state]`` several times over: 4 GiB a copy at one
    10^6-node graph with hidden 64 and state 16; chunked, those live for one chunk at a time and only
    the per-step inputs (``[G, L, d_inner + 2 state]``) are kept. Within a chunk mambapy's parallel scan
    runs, the carried state folded into its first step.

    Args:
        u (Tensor): the scanned inputs.
        delta (Tensor): the step sizes (after softplus).
        a (Tensor): the (negative) state matrix.
        b (Tensor): the input projections.
        c (Tensor): the output projections.
        d (Tensor): the skip weights.
        chunk (int, optional): steps per chunk (default: :data:`SCAN_CHUNK`)

    Shapes: ``u``, ``delta`` ``[G, L, d_inner]``; ``a`` ``[d_inner, state]``; ``b``, ``c`` ``[G, L, state]``;
    ``d`` ``[d_inner]`` -> ``[G, L, d_inner]``.
    """
    state = u.new_zeros(u.size(0), u.size(2), a.size(1))
    outputs = []
    for start in range(0, u.size(1), chunk):
        part = slice(start, start + chunk)
        y, state = checkpoint(_scan_chunk, u[:, part], delta[:, part], a, b[:, part], c[:, part], state,
                              use_reentrant=False)
        outputs.append(y)
    return torch.cat(outputs, dim=1) + d * u


def _scan_chunk(u: Tensor, delta: Tensor, a: Tensor, b: Tensor, c: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
    """One chunk of :func:`chunked_selective_scan` (no skip term) from ``state``: its outputs and last state."""
    decay = torch.exp(delta.unsqueeze(-1) * a)  # [G, c, d_inner, state]
    inputs = (delta * u).unsqueeze(-1) * b.unsqueeze(2)
    inputs = torch.cat([inputs[:, :1] + decay[:, :1] * state.unsqueeze(1), inputs[:, 1:]], dim=1)
    states = pscan(decay, inputs)
    return (states @ c.unsqueeze(-1)).squeeze(-1), states[:, -1]


@register_mixer("mamba")
class MambaMixer(OrderedMixer):
    """A Mamba block (selective state-space scan) over each graph's nodes in ``model.ordering``'s order.

    Gu & Dao 2023's block, as Graph-Mamba uses it (``Mamba_Hybrid_Degree_Noise``: degree order,
    random tie-breaks each step).

    The block: ``[u, z] = W_in x``; ``u`` passes a causal depthwise convolution (``conv`` taps) and
    SiLU; the selective scan ``h_t = exp(delta_t A) h_(t-1) + delta_t B_t u_t``,
    ``y_t = C_t h_t + D u_t`` with ``delta_t = softplus(W_delta (W_x u_t)_delta)`` and ``B_t``, ``C_t``
    read from ``u_t`` (``W_x``); ``out = W_out (y * SiLU(z))``. Graphs are scanned one per sequence,
    padded after their last node (a causal scan never reads the padding). ``bidirectional`` adds a
    second block scanning each graph in reverse (GMN, Behrouz & Hashemi 2024), its output summed.

    The block is ``mambapy``'s ``MambaBlock`` (pure PyTorch, a parallel scan: CPU and any GPU;
    tested against a step-by-step recurrence), the same parameters and initialisation as
    ``mamba-ssm``'s ``Mamba``; sequences longer than :data:`SCAN_CHUNK` are scanned in checkpointed
    chunks (:func:`chunked_selective_scan`: memory linear in the sequence at a 10^6-node graph).
    ``kernels: cuda`` runs ``mamba-ssm``'s fused CUDA scan instead.

    ``forward(x [N, hidden], batch [N], data) -> [N, hidden]``. Cost: O(N hidden expansion state)
    time and memory per layer (the scan's states are kept for the backward pass).

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
        heads (int): not read: the scan has no heads (``model.heads``).
        dropout (float): dropout on the mixer's output (``model.attn_dropout``).
        state (int, optional): SSM state size per channel, ``N`` (default: :obj:`16`)
        expansion (int, optional): inner width as a multiple of ``hidden`` (Graph-Mamba: 1) (default: :obj:`1`)
        conv (int, optional): taps of the causal convolution (default: :obj:`4`)
        bidirectional (bool, optional): also scan each graph in reverse (default: :obj:`False`)
        kernels (str, optional): ``torch`` (mambapy's scan) or ``cuda`` (mamba-ssm's kernels, GPUs
            only: ``pip install 'graphformers[mamba-cuda]'``) (default: :obj:`"torch"`)
        eval_orderings (int, optional): orderings averaged at evaluation (Graph-Mamba: 5) (default: :obj:`1`)
    """

    def __init__(self, hidden: int, heads: int, dropout: float, state: int = 16, expansion: int = 1, conv: int = 4,
                 bidirectional: bool = False, kernels: str = "torch", eval_orderings: int = 1) -> None:
        super().__init__(hidden, heads, dropout, eval_orderings)
        for value, option in ((state, "state"), (expansion, "expansion"), (conv, "conv")):
            check_positive(value, f"mixer mamba's {option}")
        if kernels not in ("torch", "cuda"):
            raise PartOptionError(f"mixer mamba's kernels must be torch or cuda, got {kernels!r}.")
        if kernels == "cuda" and importlib.util.find_spec("mamba_ssm") is None:
            raise PartOptionError(f"mixer mamba: kernels: cuda needs the mamba-ssm package, which is not installed; "
                                  f"{CUDA_EXTRA} (CUDA GPUs only), or use kernels: torch.")
        config = MambaConfig(d_model=hidden, n_layers=1, d_state=state, expand_factor=expansion, d_conv=conv,
                             use_cuda=kernels == "cuda")
        self.scan = ChunkedMambaBlock(config)
        self.reverse_scan = ChunkedMambaBlock(config) if bidirectional else None

    def check_graph_size(self, num_nodes: int) -> None:
        """Refuse a graph whose scan alone would keep more for the backward pass than half this machine's
        memory: per node and block about ``9 d_inner + 2 state + rank + hidden`` floats (the projections,
        convolution, step sizes, outputs and gate; the chunked scan's states are per chunk)."""
        block = self.scan
        inner, state, rank = block.config.d_inner, block.config.d_state, block.config.dt_rank
        blocks = 2 if self.reverse_scan is not None else 1
        needed = num_nodes * blocks * (9 * inner + 2 * state + rank + self.hidden) * 4
        budget = int(machine_memory_bytes() * MEMORY_SHARE)
        if needed > budget:
            raise GraphTooLargeError(
                f"mixer mamba on a graph of {num_nodes:,} nodes keeps about {needed / 2**30:,.1f} GiB per layer for "
                f"the backward pass, above the {budget / 2**30:,.1f} GiB a run may use here (half of this machine's "
                f"memory); lower model.hidden or the mixer's expansion, or split the graph with data.node_parts.")

    def mix_sequences(self, x: Tensor, data: Batch) -> Tensor:
        out = self._scanned(self.scan, x, data)
        if self.reverse_scan is not None:
            reverse = reversed_within_graphs(data)
            out = out + self._scanned(self.reverse_scan, x.index_select(0, reverse), data).index_select(0, reverse)
        return dropout(out, p=self.dropout, training=self.training)

    @staticmethod
    def _scanned(block: nn.Module, x: Tensor, data: Batch) -> Tensor:
        return from_sequences([block(sequences) for _, sequences in to_sequences(x, data)], data)



class ChunkedMambaBlock(MambaBlock):
    """mambapy's ``MambaBlock``, the selective scan of a sequence longer than :data:`SCAN_CHUNK` run in
    checkpointed chunks (:func:`chunked_selective_scan`); shorter ones take mambapy's own scan."""

    def selective_scan(self, x: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor) -> Tensor:  # noqa: N803
        if x.size(1) <= SCAN_CHUNK:
            return super().selective_scan(x, delta, A, B, C, D)
        return chunked_selective_scan(x, delta, A, B, C, D)
