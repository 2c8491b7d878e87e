"""Polynormer as its authors built it (Deng et al. 2024, "Polynormer: Polynomial-Expressive Graph
Transformer in Linear Time"; cornell-zhang/Polynormer ``model.py``): a stack of local attention
layers, then a stack of global linear-attention layers, each with its own prediction head, and a
two-phase schedule (``local_epochs`` with the global stack off, then the global stack on).

The GPS model can also use Polynormer's local block and global mixer (``local: polynormer``,
``mixer: polynormer``), interleaved layer by layer; this model keeps the paper's staging.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.nn import GATConv

from graphformers.errors import PartOptionError, check_heads_divide
from graphformers.mixers.kernel_attention import per_graph_linear_attention
from graphformers.models.base import GraphModel
from graphformers.models.parts import build_feature, model_options, require_node_level
from graphformers.nn.dropout import dropout
from graphformers.recipe import ModelConfig
from graphformers.registry import register_model
from graphformers.task import TaskInfo


@dataclass(frozen=True)
class PolynormerOptions:
    """Polynormer (Deng et al. 2024): local attention stack, then global linear attention, two phases.

    Its ``model.options``, named as the authors' ``main.py`` arguments.

    Args:
        local_layers (int, optional): local attention layers (``--local_layers``). (default: :obj:`3`)
        global_layers (int, optional): global linear-attention layers (``--global_layers``). (default: :obj:`2`)
        local_epochs (int, optional): epochs with the global stack off (``--local_epochs``); the rest of
            ``train.max_epochs`` trains with it. (default: :obj:`100`)
        beta (float, optional): weight of each layer's polynomial term; negative: learned per layer and
            channel as ``sigmoid(b)`` (``--beta``). (default: :obj:`-1.0`)
    """

    local_layers: int = 3
    global_layers: int = 2
    local_epochs: int = 100
    beta: float = -1.0


class PolynomialMix(nn.Module):
    """``beta`` per layer and channel: learned as ``sigmoid(b)`` (``b`` Xavier-normal) when the option
    is negative, else the constant."""

    def __init__(self, layers: int, hidden: int, beta: float) -> None:
        super().__init__()
        if not (beta < 0 or 0 <= beta <= 1):
            raise PartOptionError(f"polynormer: model.options.beta must be in [0, 1] (a fixed weight) or negative "
                                  f"(learned), got {beta}.")
        self.learned = beta < 0
        if self.learned:
            self.raw = nn.Parameter(nn.init.xavier_normal_(torch.empty(layers, hidden)))
        else:
            self.register_buffer("raw", torch.full((layers, hidden), beta))

    def forward(self, layer: int) -> Tensor:
        """``[1, hidden]``: layer ``layer``'s beta."""
        return (torch.sigmoid(self.raw[layer]) if self.learned else self.raw[layer]).unsqueeze(0)


@register_model("polynormer")
class PolynormerModel(GraphModel):
    """Input dropout and projection; ``local_layers`` x local attention; ``global_layers`` x global
    linear attention on the layer-normed sum of the local outputs; one head per stage.

    Local layer ``i`` (GAT with self loops, no bias)::

        h = ReLU(W_h x);  x' = dropout(ReLU(GAT(x) + W x));  x = (1 - beta_i) LN(h * x') + beta_i x'

    Global layer ``j`` (shared output map ``W_o``, sigmoid keys as queries)::

        h = W_h x;  k = q = sigmoid(W_k x);  v = W_v x
        x = dropout(ReLU(W_o (LN(att(q, k, v)) * (h + beta_j))))

    with ``att_i = sum_j (q_i . k_j) v_j / sum_j q_i . k_j`` per head over ``i``'s graph. Until the
    global phase starts (:meth:`start_epoch`), the output is the local head on the sum of the
    local layers' outputs; then the global head on the global stack's output. The phase is a
    buffer, so a checkpoint carries it.

    Differences from the authors' code: heads split ``model.hidden`` into ``hidden / heads``
    channels each (their ``hidden_channels`` is per head, so our hidden = theirs x heads); binary
    tasks have one logit and BCE (theirs: two classes and NLL); the switch to the global phase
    continues from the last local epoch's weights (theirs reloads the best local checkpoint).

    Args:
        config (ModelConfig): ``hidden``, ``heads``, ``dropout`` (local stack), ``attn_dropout``
            (global stack), ``input_dropout`` and ``options`` (:class:`PolynormerOptions`).
        info (TaskInfo): the dataset's task (node level).
    """

    options_type = PolynormerOptions
    reads = ("hidden", "heads", "node_encoder", "dropout", "input_dropout", "attn_dropout")

    def __init__(self, config: ModelConfig, info: TaskInfo) -> None:
        super().__init__(config, info)
        options = model_options(PolynormerOptions, config.options, "polynormer")
        require_node_level(info, "polynormer", "model.name: gps with local: polynormer and mixer: polynormer for "
                                               "graph tasks")
        hidden, heads = config.hidden, config.heads
        check_heads_divide(hidden, heads, "polynormer")
        self.options, self.heads = options, heads
        self.input_dropout, self.dropout = config.input_dropout, config.dropout
        self.global_dropout = config.attn_dropout
        self.node_encoder = build_feature(config.node_encoder or info.node_encoder, info.node_in, hidden)
        layers = range(options.local_layers)
        self.local_gates = nn.ModuleList(nn.Linear(hidden, hidden) for _ in layers)
        self.local_convs = nn.ModuleList(GATConv(hidden, hidden // heads, heads=heads, bias=False) for _ in layers)
        self.local_skips = nn.ModuleList(nn.Linear(hidden, hidden) for _ in layers)
        self.local_norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in layers)
        self.local_beta = PolynomialMix(options.local_layers, hidden, options.beta)
        self.global_input_norm = nn.LayerNorm(hidden)
        stacked = range(options.global_layers)
        self.global_gates = nn.ModuleList(nn.Linear(hidden, hidden) for _ in stacked)
        self.global_keys = nn.ModuleList(nn.Linear(hidden, hidden) for _ in stacked)
        self.global_values = nn.ModuleList(nn.Linear(hidden, hidden) for _ in stacked)
        self.global_norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in stacked)
        self.global_beta = PolynomialMix(options.global_layers, hidden, options.beta)
        self.global_out = nn.Linear(hidden, hidden)
        self.local_head = nn.Linear(hidden, info.num_outputs)
        self.global_head = nn.Linear(hidden, info.num_outputs)
        self.register_buffer("global_phase", torch.tensor(False))

    def start_epoch(self, epoch: int) -> None:
        """The two-phase schedule: the global stack is on from epoch ``local_epochs``."""
        self.global_phase.fill_(epoch >= self.options.local_epochs)

    def forward(self, data: Batch, chunk: int | None = None) -> Tensor:
        """``data`` (``x``, ``edge_index``, ``batch``) -> ``[N, num_outputs]``."""
        if not isinstance(data, Batch):
            data = Batch.from_data_list([data])
        x = dropout(data.x, self.input_dropout, self.training) if data.x.is_floating_point() else data.x
        x = dropout(self.node_encoder(x), self.dropout, self.training)
        local_sum = torch.zeros_like(x)
        for i, conv in enumerate(self.local_convs):
            gate = F.relu(self.local_gates[i](x))
            x = dropout(F.relu(conv(x, data.edge_index) + self.local_skips[i](x)), self.dropout, self.training)
            beta = self.local_beta(i)
            x = (1 - beta) * self.local_norms[i](gate * x) + beta * x
            local_sum = local_sum + x
        if not bool(self.global_phase):
            return self.local_head(local_sum)
        x = self.global_input_norm(local_sum)
        shape = (x.size(0), self.heads, x.size(1) // self.heads)
        for j in range(len(self.global_keys)):
            gate = self.global_gates[j](x)
            keys = torch.sigmoid(self.global_keys[j](x)).view(shape)
            attended = per_graph_linear_attention(keys, keys, self.global_values[j](x).view(shape), data)
            x = self.global_norms[j](attended.reshape(x.shape)) * (gate + self.global_beta(j))
            x = dropout(F.relu(self.global_out(x)), self.global_dropout, self.training)
        return self.global_head(x)
