"""The global-mixer contract: attention-like mixing among all nodes of each graph."""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform

from graphformers.errors import PartOptionError, check_heads_divide
from graphformers.orderings.base import NodeOrdering
from graphformers.pair_encodings.base import PairEncoding


class GlobalMixer(nn.Module):
    """Base class of global mixers.

    A mixer is constructed as ``Mixer(hidden, heads, dropout, **options)`` (its options are
    the recipe's ``model.mixer: {name: ..., option: ...}``; ``dropout`` is the recipe's
    ``model.attn_dropout``) and called as ``forward(x [N, hidden], batch [N], data) -> [N, hidden]``:
    ``x`` holds the nodes of every graph in the mini-batch, ``batch`` maps each node to its graph
    (sorted, as PyG batches are) and ``data`` is the PyG ``Batch`` for mixers that need more
    structure (edges, or what the :meth:`precompute` transform stored once per graph before
    training, such as Exphormer's expander edges). A mixer must never let information flow
    between graphs of one batch. The GPS layer adds the residual, dropout and norm. A batch may
    hold only empty graphs (``N = 0``): the mixer then returns ``[0, hidden]``, and each of its
    parameters gets a (zero) gradient, as DDP's static graph expects of every process: by running
    its layers on the empty input, or, where the computation needs a node (a scan needs a step),
    by returning :meth:`without_nodes`.

    ``dropout`` is applied where each mixer's docstring says: on attention probabilities where
    the mixer forms them (``full``, ``exphormer``), otherwise on the mixer's output before its
    residual (``performer``: the attended values before the output projection; ``polynormer``:
    after its final ReLU).

    Args:
        hidden (int): width of node features, in and out.
        heads (int): attention heads; must divide ``hidden``.
        dropout (float): the mixer's own dropout rate (see above).
    """

    reads_ordering: bool = False
    """Whether the mixer scans nodes in the order of ``model.ordering`` (and so needs one)."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        check_heads_divide(hidden, heads, type(self).__name__)
        self.hidden, self.heads, self.dropout = hidden, heads, dropout

    def precompute(self) -> BaseTransform | None:
        """A transform storing per-graph structure this mixer reads from ``data`` (None: needs none)."""
        return None

    def use_pair_encodings(self, encodings: Mapping[str, PairEncoding]) -> None:
        """Called by the model once, after construction and before training, with the recipe's pair
        encodings by name (``model.pair_encodings``), precomputed on every graph; a mixer whose options
        name one builds what reads it here and raises
        :class:`~graphformers.errors.PartOptionError` when it is missing. The default reads none."""

    def use_ordering(self, ordering: NodeOrdering | None) -> None:
        """Called by the model once, after construction, with the recipe's node ordering
        (``model.ordering``; None when it sets none). Mixers that scan nodes in order
        (:class:`~graphformers.mixers.sequence.OrderedMixer`) keep it; the others refuse one, so that
        a recipe never sets an ordering nothing reads."""
        if ordering is not None:
            raise PartOptionError(f"model.ordering is set, but the mixer {type(self).__name__} reads no node order; "
                                  f"remove it (the mixers that do: mamba, cat).")

    def check_graph_size(self, num_nodes: int) -> None:
        """Raise :class:`GraphTooLargeError` if a graph of ``num_nodes`` nodes is beyond this mixer
        (called before training on the largest graph, so a run fails before allocating)."""

    def without_nodes(self, x: Tensor) -> Tensor:
        """The output for a batch without nodes (``x [0, hidden]``), for a mixer whose computation
        needs a node: zeros that depend on ``x`` and on every trainable parameter, each of which
        thus gets a zero gradient (DDP's static graph expects one from every process at every step).

        Shapes: ``x [0, hidden]`` -> ``[0, hidden]``.
        """
        trainable = [parameter.sum() for parameter in self.parameters() if parameter.requires_grad]
        return x * 0 + (torch.stack(trainable).sum() * 0 if trainable else 0)

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        raise NotImplementedError
