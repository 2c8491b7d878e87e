"""Local message-passing blocks wrapping PyG convolutions."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv, GINEConv, SAGEConv, TransformerConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import is_torch_sparse_tensor

from graphformers.errors import check_heads_divide, check_positive
from graphformers.local.base import LocalBlock
from graphformers.nn.norms import make_norm
from graphformers.registry import register_local


@register_local("gine")
class GINE(LocalBlock):
    """GINE (Hu et al. 2020): GIN with edge features added to messages (PyG ``GINEConv``).

    ``x' = MLP((1 + eps) x_i + sum_j ReLU(x_j + e_ji))`` with a two-layer MLP:
    ``forward(x [N, hidden], edge_index [2, E], edge_attr [E, hidden]) -> [N, hidden]``. As in
    GraphGPS's GPS layer, the edge features enter the messages as they are; ``edge_linear``
    adds PyG's learned map of them in every layer (``GINEConv(edge_dim=...)``), which costs an
    ``[E, hidden] x [hidden, hidden]`` product forward and two backward per layer.

    Args:
        hidden (int): width of node and edge features, in and out (``model.hidden``).
        train_eps (bool, optional): learn GIN's ``eps`` (the weight of a node's own features);
            :obj:`False` fixes it at :obj:`0` (default: :obj:`True`)
        edge_linear (bool, optional): pass the edge features through a learned linear map
            before adding them to the messages (default: :obj:`False`, GraphGPS's GINE)
        expansion (int, optional): the MLP's inner width as a multiple of ``hidden``; OGB's GIN
            for molecules uses :obj:`2` (default: :obj:`1`, GraphGPS's GINE)
        batch_norm (bool, optional): batch norm between the MLP's two layers, as OGB's GIN
            (``Linear, BatchNorm, ReLU, Linear``) (default: :obj:`False`)
    """

    incoming_only = True  # a node's output reads only its incoming edges (full-graph inference may chunk it)

    def __init__(self, hidden: int, train_eps: bool = True, edge_linear: bool = False, expansion: int = 1,
                 batch_norm: bool = False) -> None:
        super().__init__(hidden)
        check_positive(expansion, "gine's expansion")
        inner = expansion * hidden
        norm = make_norm("batch" if batch_norm else "none", inner)
        mlp = nn.Sequential(nn.Linear(hidden, inner), norm, nn.ReLU(), nn.Linear(inner, hidden))
        self.conv = GINEConv(mlp, train_eps=train_eps, edge_dim=hidden if edge_linear else None)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return self.conv(x, edge_index, edge_attr)


@register_local("gcn")
class GCN(LocalBlock):
    """GCN (Kipf & Welling 2017), symmetric normalisation with self loops; ignores edge features.

    ``forward(x [N, hidden], edge_index [2, E], edge_attr) -> [N, hidden]``; ``edge_index`` may
    also be the sparse transposed adjacency ``adj_t [N, N]`` of full-batch training, whose
    normalised copy is kept while the same ``adj_t`` comes back: PyG's ``GCNConv`` would
    renormalise it (a sort of every edge) at every step, half a tolokers step at hidden 64
    (``cached=True`` would also keep it for other graphs).

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
    """

    accepts_adjacency = True  # edge_index may be PyG's sparse adj_t (aggregation by sparse product)

    def __init__(self, hidden: int) -> None:
        super().__init__(hidden)
        self.conv = GCNConv(hidden, hidden, normalize=False)  # normalised in forward (gcn_norm, as GCNConv does)
        self._normalized: tuple[Tensor, Tensor] | None = None  # (adj_t, D^-1/2 (A + I) D^-1/2 of it)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        if not is_torch_sparse_tensor(edge_index):
            edge_index, edge_weight = gcn_norm(edge_index, None, x.size(0), dtype=x.dtype)
            return self.conv(x, edge_index, edge_weight)
        if self._normalized is None or self._normalized[0] is not edge_index:
            # an ordinary tensor even under evaluation's inference mode, so training steps may reuse it
            with torch.inference_mode(False):
                self._normalized = (edge_index, gcn_norm(edge_index, None, x.size(0), dtype=x.dtype)[0])
        return self.conv(x, self._normalized[1])


@register_local("gat")
class GAT(LocalBlock):
    """GATv1 (Velickovic et al. 2018) with edge features in the attention logits (PyG ``GATConv``).

    Self loops are added (their edge features the mean of a node's incoming ones) and the heads
    concatenated: ``forward(x [N, hidden], edge_index [2, E], edge_attr [E, hidden]) -> [N, hidden]``.

    Args:
        hidden (int): width of node and edge features, in and out (``model.hidden``).
        heads (int, optional): attention heads, each ``hidden / heads`` wide, concatenated; must
            divide ``hidden`` (default: :obj:`4`)
        dropout (float, optional): dropout on the attention coefficients, as GAT trains on
            Cora (0.6) (default: :obj:`0.0`)
    """

    incoming_only = True  # softmax over incoming edges; self-loop features = mean of incoming ones

    def __init__(self, hidden: int, heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__(hidden)
        check_heads_divide(hidden, heads, "gat")
        self.conv = GATConv(hidden, hidden // heads, heads=heads, edge_dim=hidden, dropout=dropout)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return self.conv(x, edge_index, edge_attr)


@register_local("sage")
class SAGE(LocalBlock):
    """GraphSAGE (Hamilton et al. 2017) with mean aggregation: ``x' = W_1 x_i + W_2 mean_j x_j``
    (PyG ``SAGEConv``); ignores edge features.

    ``forward(x [N, hidden], edge_index [2, E], edge_attr) -> [N, hidden]``; ``edge_index`` may
    also be the sparse transposed adjacency ``adj_t [N, N]``.

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
    """

    incoming_only = True  # the mean over a node's incoming edges and its own features
    accepts_adjacency = True  # SAGEConv takes PyG's sparse adj_t (mean by sparse product)

    def __init__(self, hidden: int) -> None:
        super().__init__(hidden)
        self.conv = SAGEConv(hidden, hidden)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return self.conv(x, edge_index)


@register_local("transformer")
class NeighbourAttention(LocalBlock):
    """Multi-head dot-product attention over each node's neighbours (PyG ``TransformerConv``): the
    "GT" baseline of Platonov et al. 2023, a transformer whose attention is restricted to the graph's
    edges; the node itself enters only through the layer's residual.

    ``softmax_j(q_i . k_j / sqrt(d))`` over incoming edges ``j -> i``, values summed per head and the
    heads concatenated; ignores edge features:
    ``forward(x [N, hidden], edge_index [2, E], edge_attr) -> [N, hidden]``.

    Args:
        hidden (int): width of node features, in and out (``model.hidden``).
        heads (int, optional): attention heads, each ``hidden / heads`` wide, concatenated; must
            divide ``hidden`` (default: :obj:`8`)
    """

    incoming_only = True  # softmax over incoming edges only

    def __init__(self, hidden: int, heads: int = 8) -> None:
        super().__init__(hidden)
        check_heads_divide(hidden, heads, "transformer")
        self.conv = TransformerConv(hidden, hidden // heads, heads=heads, root_weight=False)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return self.conv(x, edge_index)
