"""The pair-encoding contract: features of node pairs ``(i, j)`` of each graph, computed once before
training (or per mini-batch) and stored sparse, for attention that reads pairs (GRIT, Graphormer)."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from graphformers.pair_encodings.distances import hop_distances
from graphformers.pair_encodings.precompute import encode_pairs


class PairEncoding(BaseTransform):
    """Base class of pair encodings.

    An encoding maps a stack of same-size graphs to a value for every ordered pair of their nodes
    (:meth:`dense`); graphs of equal size share one batched call
    (:func:`~graphformers.pair_encodings.precompute.compute_pair_encodings`). Each graph stores the
    pairs within :attr:`hops` hops of each other (all its ``N^2`` pairs when ``hops`` is None), as
    PyG-batchable sparse attributes named after :attr:`key`:

    - ``data[key + "_index"]`` ``[2, P]``: ``(source j, target i)`` per pair, PyG's edge order (row 0
      sends, row 1 receives), sorted by target then source; collating offsets it like ``edge_index``.
    - ``data[key + "_attr"]`` ``[P, channels]`` float32: the encoding of the pair, read by target
      ``i`` about source ``j`` (for a random walk: from ``i`` to ``j``).

    A pair not stored has the value :attr:`fill` in every channel. The precompute pads graphs of
    similar size with isolated nodes to share one call, so the values between a graph's own
    nodes must not depend on isolated nodes beside them (true of any encoding computed per
    connected component). Recipes list encodings in
    ``model.pair_encodings`` (their options are the constructor's) and consumers (``model: grit``,
    ``mixer: {name: full, bias: spd}``) name them there. ``repr`` must name every option that
    changes the output: it keys the on-disk cache.
    """

    key: str = ""
    """Prefix of the stored attributes; the built-ins use their registered name."""
    edges: str = "edge_index"
    """The graph attribute holding the edges the encoding reads."""
    fill: float = 0.0
    """Value of every channel of a pair that is not stored (farther apart than :attr:`hops`)."""

    @property
    def channels(self) -> int:
        """Floats per pair. With :attr:`hops` None, ``N^2 x channels`` bounds a graph's memory before
        any precompute, so an encoding too large for the machine is refused, not run out of memory."""
        raise NotImplementedError(f"{type(self).__name__} must define channels")

    @property
    def hops(self) -> int | None:
        """Pairs at most this many hops apart are stored (their value elsewhere is :attr:`fill`);
        None: all pairs of a graph, connected or not."""
        return None

    @property
    def categories(self) -> int | None:
        """The values are integer categories ``0 .. categories - 1`` in one channel (consumers embed
        them); None: real values (consumers project them)."""
        return None

    @property
    def index_key(self) -> str:
        """Attribute of the ``[2, P]`` pair index."""
        return f"{self.key}_index"

    @property
    def attr_key(self) -> str:
        """Attribute of the ``[P, channels]`` pair values."""
        return f"{self.key}_attr"

    def dense(self, directed: Tensor) -> Tensor:
        """``[B, n, n]`` float64 0/1 directed adjacencies (``A[b, u, v] = 1`` for an edge ``u -> v``, no
        self loops) -> ``[B, n, n, channels]`` float32, entry ``[b, i, j]`` the encoding of target
        ``i`` about source ``j``; pairs beyond :attr:`hops` must hold :attr:`fill`."""
        raise NotImplementedError

    def stored_pairs(self, directed: Tensor, values: Tensor) -> Tensor:
        """``[B, n, n]`` bool, which pairs of :meth:`dense`'s ``values`` ``[B, n, n, channels]`` are
        stored: all when :attr:`hops` is None, else those within ``hops`` hops (breadth-first search;
        an encoding may override this with a cheaper rule that picks the same pairs)."""
        if self.hops is None:
            return torch.ones(values.shape[:-1], dtype=torch.bool)
        return hop_distances(directed) <= self.hops

    def forward(self, data: Data) -> Data:
        encode_pairs([data], [self])
        return data
