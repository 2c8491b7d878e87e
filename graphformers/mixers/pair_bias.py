"""The contract of mixers with an optional learned bias read from a pair encoding (``full``, ``aft``)."""
from __future__ import annotations

from collections.abc import Mapping

from torch import nn

from graphformers.errors import PartOptionError
from graphformers.mixers.base import GlobalMixer
from graphformers.pair_encodings.base import PairEncoding
from graphformers.pair_encodings.value_encoder import PairValueEncoder, named_bias


class PairBiasedMixer(GlobalMixer):
    """Base class of mixers whose ``bias`` option names a pair encoding (``model.pair_encodings``) and
    learn a map of its values to ``bias_channels`` channels per pair.

    The model calls :meth:`use_pair_encodings` once, after building the mixer: it looks up the named
    encoding (an ``error:`` where the recipe does not compute it), builds the map
    (``bias_encoder``, a :class:`~graphformers.pair_encodings.value_encoder.PairValueEncoder`) and
    lets the subclass initialise an embedding's weights (:meth:`init_bias_embedding`). Subclasses
    read the encoding's stored pairs in ``forward`` through ``bias_encoding`` / :meth:`require_bias`.

    Args:
        hidden (int): width of node features, in and out.
        heads (int): attention heads (``model.heads``).
        dropout (float): the mixer's dropout (``model.attn_dropout``).
        bias (str, optional): the pair encoding the bias reads; :obj:`None`: no bias.
        bias_channels (int): channels of the bias per pair (heads for ``full``, ``hidden`` for ``aft``).
        label (str): the part as messages name it (``"mixer full"``).
    """

    def __init__(self, hidden: int, heads: int, dropout: float, bias: str | None, bias_channels: int,
                 label: str) -> None:
        super().__init__(hidden, heads, dropout)
        self.bias, self.bias_channels, self.label = bias, bias_channels, label
        self.bias_encoding: PairEncoding | None = None
        self.bias_encoder: PairValueEncoder | None = None

    def use_pair_encodings(self, encodings: Mapping[str, PairEncoding]) -> None:
        """Build the map of the pair encoding ``bias`` names (nothing without a ``bias``)."""
        if self.bias is None:
            return
        self.bias_encoding, self.bias_encoder = named_bias(self.label, self.bias, encodings, self.bias_channels)
        if self.bias_encoder.categorical:
            self.init_bias_embedding(self.bias_encoder.map)

    def init_bias_embedding(self, embedding: nn.Embedding) -> None:
        """Initialise the embedding of a categorical encoding's values (default: PyTorch's)."""

    def require_bias(self) -> tuple[PairEncoding, PairValueEncoder]:
        """``(bias_encoding, bias_encoder)``, or :class:`~graphformers.errors.PartOptionError` where the
        model has not called :meth:`use_pair_encodings`."""
        if self.bias_encoder is None:
            raise PartOptionError(f"{self.label}: bias {self.bias!r} needs its pair encoding: the model must call "
                                  f"use_pair_encodings before the first forward.")
        return self.bias_encoding, self.bias_encoder
