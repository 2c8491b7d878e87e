"""The local-block contract: message passing over a graph's own edges, one block per GPS layer."""
from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.data import Data


class LocalBlock(nn.Module):
    """Base class of local message-passing blocks.

    A block is constructed as ``Block(hidden, **options)`` (its options are the recipe's
    ``model.local: {name: ..., option: ...}``) and called as
    ``forward(x [N, hidden], edge_index [2, E], edge_attr [E, hidden])``. It returns
    ``x' [N, hidden]``, or ``(x' [N, hidden], edge_attr' [E, hidden])`` when it declares
    :attr:`updates_edges`. The GPS layer around it adds the residual, dropout and norm.

    Capability flags (class attributes; a block may also set them per instance in ``__init__``
    when they depend on its options):

    * :attr:`incoming_only`: the output at node ``i`` (and on an edge ``j -> i``) reads only
      ``x_i``, ``i``'s incoming edges and their sources. Full-graph inference may then run the
      block on chunks of target nodes with their incoming edges
      (:func:`graphformers.layers.gps.local_in_chunks`).
    * :attr:`accepts_adjacency`: ``edge_index`` may also be PyG's transposed sparse adjacency
      (``adj_t [N, N]``, a torch CSR tensor); the block then aggregates by sparse matrix product
      instead of per-edge messages (:meth:`edges_of`: full-batch training on one graph, full-graph
      inference).
    * :attr:`updates_edges`: ``forward`` returns ``(x', edge_attr')`` and the next layer reads
      the updated edge features.

    Args:
        hidden (int): width of node (and edge) features, in and out.
    """

    incoming_only: bool = False
    accepts_adjacency: bool = False
    updates_edges: bool = False

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        raise NotImplementedError

    def edges_of(self, data: Data) -> Tensor:
        """The structure this block reads from a batch: its ``adj_t [N, N]`` when the block
        :attr:`accepts_adjacency` and the batch carries one (the data module attaches it to the one
        graph of full-batch training, where a sparse product is 2-3x faster than per-edge messages:
        ``python -m graphformers.bench fullbatch``), else ``edge_index [2, E]``.

        Args:
            data (Data): a batch with ``edge_index`` and perhaps ``adj_t``.
        """
        if self.accepts_adjacency and "adj_t" in data:
            return data.adj_t
        return data.edge_index
