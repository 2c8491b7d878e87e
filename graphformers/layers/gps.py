"""The GPS layer (Rampasek et al. 2022): a local message-passing block and a global mixer in parallel."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.utils import to_torch_csr_tensor

from graphformers.errors import PartOptionError
from graphformers.local.base import LocalBlock
from graphformers.mixers.base import GlobalMixer
from graphformers.nn.dropout import Dropout
from graphformers.nn.norms import make_norm


class GPSLayer(nn.Module):
    """``x -> norm(h_local + h_global) + FFN``, each branch with dropout, residual and norm.

    ``h_local = norm(x + dropout(local(x, edges)))`` and ``h_global = norm(x + dropout(mixer(x)))``
    as in GraphGPS and PyG's ``GPSConv``; either branch may be ``None`` (pure transformer or
    pure MPNN). Blocks that update edge features (GatedGCN) pass them on to the next layer.
    The layer takes built parts, so it is usable without a recipe:
    ``GPSLayer(64, local=GINE(64), mixer=FullAttention(64, heads=4, dropout=0.0))``.

    Args:
        hidden (int): width of node and edge features.
        local (LocalBlock, optional): the local message-passing block (:obj:`None`: none).
        mixer (GlobalMixer, optional): the global mixer (:obj:`None`: none).
        dropout (float, optional): dropout on each branch and inside the FFN. (default: :obj:`0.0`)
        norm (str, optional): ``batch``, ``layer`` or ``none``. (default: :obj:`"batch"`)
        ffn_ratio (int, optional): FFN width as a multiple of ``hidden``. (default: :obj:`2`)
    """

    def __init__(
        self,
        hidden: int,
        local: LocalBlock | None = None,
        mixer: GlobalMixer | None = None,
        dropout: float = 0.0,
        norm: str = "batch",
        ffn_ratio: int = 2,
    ) -> None:
        super().__init__()
        if local is None and mixer is None:
            raise PartOptionError("model.local and model.mixer are both none; a GPS layer needs a local block, "
                                  "a mixer or both.")
        self.local, self.mixer = local, mixer
        self.local_norm = make_norm(norm, hidden)
        self.mixer_norm = make_norm(norm, hidden)
        self.dropout = Dropout(dropout)
        self.ffn = nn.Sequential(
            nn.Linear(hidden, ffn_ratio * hidden), nn.ReLU(), Dropout(dropout),
            nn.Linear(ffn_ratio * hidden, hidden), Dropout(dropout),
        )
        self.ffn_norm = make_norm(norm, hidden)

    def forward(self, x: Tensor, edge_attr: Tensor, data: Batch, chunk: int | None = None) -> tuple[Tensor, Tensor]:
        """``x [N, hidden]``, ``edge_attr [E, hidden]`` -> updated ``(x, edge_attr)``. With ``chunk``
        (full-graph inference) the local block runs on ``chunk`` target nodes at a time
        (:func:`local_in_chunks`); the mixer always sees every node of each graph."""
        branches = []
        if self.local is not None:
            if chunk is None:
                local_out = self.local(x, self.local.edges_of(data), edge_attr)
            else:
                local_out = local_in_chunks(self.local, x, data.edge_index, edge_attr, chunk)
            if self.local.updates_edges:
                local_out, edge_attr = local_out
            branches.append(self.local_norm(x + self.dropout(local_out)))
        if self.mixer is not None:
            branches.append(self.mixer_norm(x + self.dropout(self.mixer(x, data.batch, data))))
        h = branches[0] if len(branches) == 1 else branches[0] + branches[1]  # sum() would add a 0 first
        return self.ffn_norm(h + self.ffn(h)), edge_attr


def local_in_chunks(block: LocalBlock, x: Tensor, edge_index: Tensor, edge_attr: Tensor,
                    chunk: int) -> Tensor | tuple[Tensor, Tensor]:
    """``block(x, edge_index, edge_attr)`` computed for ``chunk`` target nodes at a time, each on the
    subgraph of their incoming edges and those edges' sources: memory for messages scales with a
    chunk's edges, not the graph's (for one graph of 10^7 edges, the difference between fitting and not).

    Exact for blocks whose output at node ``i`` (and on edge ``j -> i``) depends only on ``x_i``, ``i``'s
    incoming edges and their sources; they say so with ``incoming_only = True`` (GINE, GAT,
    GatedGCN). Others (GCN's normalisation reads the sources' degrees) run on the whole graph; those
    with ``accepts_adjacency = True`` get PyG's transposed sparse adjacency instead of ``edge_index``,
    so they aggregate by sparse matrix product without an ``[E, hidden]`` message tensor.
    """
    num_nodes = x.size(0)
    if not block.incoming_only or num_nodes == 0:
        if block.accepts_adjacency:
            edge_index = to_torch_csr_tensor(edge_index.flip(0), size=(num_nodes, num_nodes))
        return block(x, edge_index, edge_attr)
    target = edge_index[1]
    order = torch.argsort(target, stable=True)
    bounds = torch.arange(0, num_nodes + chunk, chunk, device=x.device).clamp(max=num_nodes)
    starts = torch.searchsorted(target[order], bounds)
    local_id = torch.full((num_nodes,), -1, dtype=torch.long, device=x.device)
    nodes_out, edges_out = [], None
    for index, first in enumerate(range(0, num_nodes, chunk)):
        targets = torch.arange(first, min(first + chunk, num_nodes), device=x.device)
        edges = order[starts[index]:starts[index + 1]]
        sources = edge_index[0, edges]
        outside = torch.unique(sources[(sources < first) | (sources >= first + targets.numel())])
        nodes = torch.cat([targets, outside])
        local_id[nodes] = torch.arange(nodes.numel(), device=x.device)
        sub_edges = torch.stack([local_id[sources], local_id[target[edges]]])
        local_id[nodes] = -1
        out = block(x[nodes], sub_edges, edge_attr[edges])
        if block.updates_edges:  # copy the edges once, then fill in each chunk's
            out, updated = out
            edges_out = edge_attr.clone() if edges_out is None else edges_out
            edges_out[edges] = updated
        nodes_out.append(out[:targets.numel()])
    out = torch.cat(nodes_out)
    return out if edges_out is None else (out, edges_out)
