"""Exphormer (Shirzad et al. 2023): sparse attention over input edges, an expander graph and virtual nodes."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform

from graphformers.mixers.base import GlobalMixer
from graphformers.mixers.edge_attention import edge_softmax_attention
from graphformers.mixers.expander import ExpanderEdges
from graphformers.registry import register_mixer

INPUT_EDGE, EXPANDER_EDGE, VIRTUAL_EDGE = 0, 1, 2


@register_mixer("exphormer")
class Exphormer(GlobalMixer):
    """Exphormer attention: each node attends over its input edges, a random ``degree``-regular expander
    and ``virtual_nodes`` virtual nodes of its graph; O(N + E).

    Virtual nodes: each layer, ``virtual_nodes`` learned embeddings per graph first attend to
    all nodes of their graph (Exphormer's node -> virtual edges); nodes then attend over
    input, expander and virtual -> node edges. In the original, virtual nodes are extra
    graph nodes whose state persists and reaches other nodes one layer later; the mixer
    interface carries no extra nodes between layers, so both hops happen within the layer.
    Edge kinds (input / expander / virtual) get a learned per-head score bias. The expander
    is precomputed once per graph by :class:`ExpanderEdges` (see :meth:`precompute`).

    ``forward(x [N, hidden], batch [N], data) -> [N, hidden]``, reading ``data.edge_index [2, E]``
    and ``data.expander_edge_index [2, N * degree]``.

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
        heads (int): attention heads (``model.heads``), each ``hidden / heads`` wide; must divide
            ``hidden``.
        dropout (float): dropout on the edge softmax weights ``[E', heads]`` (the attention
            probabilities along input, expander and virtual edges, and those of the virtual nodes
            gathering their graph), in training only (``model.attn_dropout``).
        degree (int, optional): degree of the random regular expander graph precomputed for each
            graph (default: :obj:`3`)
        virtual_nodes (int, optional): learned virtual nodes per graph; :obj:`0` for none
            (default: :obj:`1`)
        seed (int, optional): seed of the expander draws; with a hash of each graph's edges and
            size it fixes every graph's expander (default: :obj:`0`)
    """

    def __init__(self, hidden: int, heads: int, dropout: float, degree: int = 3, virtual_nodes: int = 1,
                 seed: int = 0) -> None:
        super().__init__(hidden, heads, dropout)
        self.degree, self.seed, self.virtual_nodes = degree, seed, virtual_nodes
        self.head_dim = hidden // heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.edge_kind_bias = nn.Parameter(torch.zeros(3, heads))
        self.virtual_embedding = nn.Parameter(torch.randn(virtual_nodes, hidden) * hidden ** -0.5)

    def precompute(self) -> BaseTransform:
        return ExpanderEdges(self.degree, self.seed)

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        if "expander_edge_index" not in data:
            raise ValueError("exphormer needs data.expander_edge_index: apply this mixer's precompute() "
                             "transform to every graph first (training from a recipe does this).")
        q, k, v = self._project(x)
        sources = [data.edge_index[0], data.expander_edge_index[0]]
        targets = [data.edge_index[1], data.expander_edge_index[1]]
        kinds = [torch.full_like(sources[0], INPUT_EDGE), torch.full_like(sources[1], EXPANDER_EDGE)]
        if self.virtual_nodes:
            virtual_k, virtual_v, virtual_source, virtual_target = self._virtual_nodes(k, v, batch, data.num_graphs)
            k, v = torch.cat([k, virtual_k]), torch.cat([v, virtual_v])
            sources.append(virtual_source + x.size(0))
            targets.append(virtual_target)
            kinds.append(torch.full_like(virtual_source, VIRTUAL_EDGE))
        kind = torch.cat(kinds)
        attended = edge_softmax_attention(q, k, v, torch.cat(sources), torch.cat(targets), x.size(0),
                                          self.edge_kind_bias[kind], self.dropout, self.training)
        return self.out(attended.reshape(x.size(0), self.hidden))

    def _project(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        return self.qkv(x).view(x.size(0), 3, self.heads, self.head_dim).unbind(1)

    def _virtual_nodes(self, k: Tensor, v: Tensor, batch: Tensor,
                       num_graphs: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Virtual node states after attending to their graph; returns their keys, values and the
        virtual -> node edges (virtual node ``g * virtual_nodes + j`` belongs to graph ``g``)."""
        count = self.virtual_nodes
        node = torch.arange(batch.numel(), device=batch.device).repeat_interleave(count)
        slot = torch.arange(count, device=batch.device).repeat(batch.numel())
        virtual = batch.repeat_interleave(count) * count + slot
        embeddings = self.virtual_embedding.repeat(num_graphs, 1)
        virtual_q, _, _ = self._project(embeddings)
        bias = self.edge_kind_bias[VIRTUAL_EDGE].expand(node.numel(), -1)
        gathered = edge_softmax_attention(virtual_q, k, v, node, virtual, num_graphs * count, bias,
                                          self.dropout, self.training)
        states = embeddings + self.out(gathered.reshape(-1, self.hidden))
        _, virtual_k, virtual_v = self._project(states)
        return virtual_k, virtual_v, virtual, node
