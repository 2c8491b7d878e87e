"""Graph-Mamba's mixer (Wang et al. 2024): a selective state-space scan over each graph's ordered nodes."""
from __future__ import annotations

import importlib.util

import torch
import torch.nn.functional as F
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
"""Sequences longer than this run through the block in checkpointed chunks of this many steps
(:class:`ChunkedMambaBlock`)."""


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
    ``mamba-ssm``'s ``Mamba``; sequences longer than :data:`SCAN_CHUNK` run through it in checkpointed
    chunks (:class:`ChunkedMambaBlock`: a few floats per node kept, up to 10^6-node graphs).
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
        """Refuse a graph whose scans would keep more for the backward pass than half this machine's
        memory: per node and block its input, output and their chunks joined (3 ``hidden`` floats),
        beyond one chunk's activations (:class:`ChunkedMambaBlock`)."""
        blocks = 2 if self.reverse_scan is not None else 1
        needed = blocks * (num_nodes * 3 * self.hidden + self._chunk_floats()) * 4
        budget = int(machine_memory_bytes() * MEMORY_SHARE)
        if needed > budget:
            raise GraphTooLargeError(
                f"mixer mamba on a graph of {num_nodes:,} nodes keeps about {needed / 2**30:,.1f} GiB per layer for "
                f"the backward pass, above the {budget / 2**30:,.1f} GiB a run may use here (half of this machine's "
                f"memory); lower model.hidden, or split the graph with data.node_parts.")

    def _chunk_floats(self) -> int:
        """Floats one chunk's forward and backward hold: about 20 per inner channel and step, and the
        parallel scan's ``[chunk, d_inner, state]`` tensors (four)."""
        config = self.scan.config
        return self.scan.chunk * config.d_inner * (20 + 4 * config.d_state)

    def mix_sequences(self, x: Tensor, data: Batch) -> Tensor:
        out = self._scanned(self.scan, x, data)
        if self.reverse_scan is not None:
            reverse = reversed_within_graphs(data)
            out = out + self._scanned(self.reverse_scan, x.index_select(0, reverse), data).index_select(0, reverse)
        return dropout(out, p=self.dropout, training=self.training)

    @staticmethod
    def _scanned(block: nn.Module, x: Tensor, data: Batch) -> Tensor:
        plan, blocks = to_sequences(x, data)
        return from_sequences([block(sequences) for _, sequences in blocks], plan)


class ChunkedMambaBlock(MambaBlock):
    """mambapy's ``MambaBlock``; a sequence longer than :attr:`chunk` steps runs through it chunk by chunk.

    Each chunk starts from the previous one's last ``conv - 1`` convolution inputs and last SSM state
    and is recomputed in the backward pass (activation checkpointing), so only the chunks' inputs and
    outputs are kept: whole, the block keeps some 20 activations per channel and step and mambapy's
    scan ``[L, d_inner, state]`` tensors (a 10^6-node graph at hidden 64 ran out of 20 GiB, the other
    linear mixers take ~6.5 GiB). Within a chunk: mambapy's layers and parallel scan, the carried
    state folded into the chunk's first step. Shorter sequences and ``kernels: cuda`` take mambapy's
    own forward. Equal to it in values and gradients (tests/test_sequence_mixers.py).

    Attributes:
        chunk (int): steps per chunk (:data:`SCAN_CHUNK`).
    """

    chunk = SCAN_CHUNK

    def forward(self, x: Tensor) -> Tensor:
        if x.size(1) <= self.chunk or self.config.use_cuda:
            return super().forward(x)
        config = self.config
        context = x.new_zeros(x.size(0), config.d_conv - 1, config.d_inner)
        state = x.new_zeros(x.size(0), config.d_inner, config.d_state)
        outputs = []
        for start in range(0, x.size(1), self.chunk):
            out, context, state = checkpoint(self._chunk, x[:, start:start + self.chunk], context, state,
                                             use_reentrant=False)
            outputs.append(out)
        return torch.cat(outputs, dim=1)

    def _chunk(self, x: Tensor, context: Tensor, state: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """One chunk ``[G, c, hidden]`` from the convolution's left ``context`` ``[G, conv - 1, d_inner]``
        and the SSM ``state`` ``[G, d_inner, state]``: its output and the next chunk's context and state."""
        config = self.config
        u, z = self.in_proj(x).chunk(2, dim=-1)
        padded = torch.cat([context, u], dim=1)
        u = F.silu(F.conv1d(padded.transpose(1, 2), self.conv1d.weight, self.conv1d.bias,
                            groups=config.d_inner).transpose(1, 2))  # causal: step t reads t - conv + 1 .. t
        delta, b, c = self.x_proj(u).split([config.dt_rank, config.d_state, config.d_state], dim=-1)
        delta = F.softplus(self.dt_proj(delta))
        decay = torch.exp(delta.unsqueeze(-1) * -torch.exp(self.A_log))  # [G, c, d_inner, state]
        inputs = (delta * u).unsqueeze(-1) * b.unsqueeze(2)
        inputs = torch.cat([inputs[:, :1] + decay[:, :1] * state.unsqueeze(1), inputs[:, 1:]], dim=1)
        states = pscan(decay, inputs)
        y = (states @ c.unsqueeze(-1)).squeeze(-1) + self.D * u
        # copies: views would keep the whole chunk's tensors alive until the backward pass
        return self.out_proj(y * F.silu(z)), padded[:, padded.size(1) - context.size(1):].clone(), states[:, -1].clone()
