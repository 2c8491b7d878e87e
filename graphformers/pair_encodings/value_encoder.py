"""A learned map of a pair encoding's values to a width: the start of GRIT's pair states and
Graphormer's per-head bias read their encodings the same way."""
from __future__ import annotations

from torch import Tensor, nn

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
