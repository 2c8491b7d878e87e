"""Graph-Mamba's mixer (Wang et al. 2024): a selective state-space scan over each graph's ordered nodes."""
from __future__ import annotations

import importlib.util

from torch import Tensor, nn
from torch_geometric.data import Batch

from graphformers.errors import PartOptionError, check_positive
from graphformers.mixers.sequence import OrderedMixer, from_sequences, reversed_within_graphs, to_sequences
from graphformers.nn.dropout import dropout
from graphformers.registry import register_mixer

CUDA_EXTRA = "pip install 'graphformers[mamba-cuda]'"
"""How the CUDA kernels are installed (the ``mamba-ssm`` package, through graphformers' extra)."""


@register_mixer("mamba")
class MambaMixer(OrderedMixer):
    """A Mamba block (Gu & Dao 2023) over each graph's nodes in the order of ``model.ordering``, as
    Graph-Mamba uses it (``Mamba_Hybrid_Degree_Noise``: degree order, random tie-breaks each step).

    The block: ``[u, z] = W_in x``; ``u`` passes a causal depthwise convolution (``conv`` taps) and
    SiLU; the selective scan ``h_t = exp(delta_t A) h_(t-1) + delta_t B_t u_t``,
    ``y_t = C_t h_t + D u_t`` with ``delta_t = softplus(W_delta (W_x u_t)_delta)`` and ``B_t``, ``C_t``
    read from ``u_t`` (``W_x``); ``out = W_out (y * SiLU(z))``. Graphs are scanned one per sequence,
    padded after their last node (a causal scan never reads the padding). ``bidirectional`` adds a
    second block scanning each graph in reverse (GMN, Behrouz & Hashemi 2024), its output summed.

    The block is ``mambapy``'s ``MambaBlock`` (pure PyTorch, a parallel scan: CPU and any GPU;
    tested against a step-by-step recurrence), the same parameters and initialisation as
    ``mamba-ssm``'s ``Mamba``; ``kernels: cuda`` runs ``mamba-ssm``'s fused CUDA scan instead.

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
        from mambapy.mamba import MambaBlock, MambaConfig

        config = MambaConfig(d_model=hidden, n_layers=1, d_state=state, expand_factor=expansion, d_conv=conv,
                             use_cuda=kernels == "cuda")
        self.scan = MambaBlock(config)
        self.reverse_scan = MambaBlock(config) if bidirectional else None

    def mix_sequences(self, x: Tensor, data: Batch) -> Tensor:
        out = self._scanned(self.scan, x, data)
        if self.reverse_scan is not None:
            reverse = reversed_within_graphs(data)
            out = out + self._scanned(self.reverse_scan, x.index_select(0, reverse), data).index_select(0, reverse)
        return dropout(out, p=self.dropout, training=self.training)

    @staticmethod
    def _scanned(block: nn.Module, x: Tensor, data: Batch) -> Tensor:
        return from_sequences([block(sequences) for _, sequences in to_sequences(x, data)], data)
