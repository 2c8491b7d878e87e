"""A learned map of a pair encoding's values to a width: the start of GRIT's pair states and
Graphormer's per-head bias read their encodings the same way."""
from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from graphformers.errors import PartOptionError
from graphformers.pair_encodings.base import PairEncoding


class PairValueEncoder(nn.Module):
    """An embedding of a categorical encoding's value (``spd``: one vector per distance), a linear map
    of a real-valued encoding's channels otherwise (``rrwp``, ``resistance``).

    ``forward(values [P, channels]) -> [P, out_channels]``.

    Args:
        encoding (PairEncoding): the encoding whose values it maps.
        out_channels (int): width of the output.
        bias (bool): add a learned bias (linear map only; an embedding has none to add).

    Attributes:
        categorical (bool): the map is an :class:`~torch.nn.Embedding` (else an :class:`~torch.nn.Linear`);
            callers initialise :attr:`map` ``.weight`` to suit.
    """

    def __init__(self, encoding: PairEncoding, out_channels: int, bias: bool) -> None:
        super().__init__()
        self.categorical = encoding.categories is not None
        self.map = (nn.Embedding(encoding.categories, out_channels) if self.categorical
                    else nn.Linear(encoding.channels, out_channels, bias=bias))

    def forward(self, values: Tensor) -> Tensor:
        return self.map(values.long().squeeze(-1) if self.categorical else values)


def named_bias(part: str, name: str, encodings: Mapping[str, PairEncoding],
               out_channels: int) -> tuple[PairEncoding, PairValueEncoder]:
    """The pair encoding a part's ``bias`` option names and a fresh map of its values to ``out_channels``
    (a mixer's learned bias); :class:`~graphformers.errors.PartOptionError` when the recipe does not
    compute it.

    Args:
        part (str): the part, for the message (``"mixer full"``).
        name (str): the ``bias`` option's value.
        encodings (mapping): the recipe's pair encodings by name (``model.pair_encodings``).
        out_channels (int): width of the bias (a mixer's heads or channels).
    """
    if name not in encodings:
        raise PartOptionError(f"{part}: bias {name!r} reads the pair encoding {name!r}, which model.pair_encodings "
                              f"does not list; add {{name: {name}}} there.")
    return encodings[name], PairValueEncoder(encodings[name], out_channels, bias=True)
