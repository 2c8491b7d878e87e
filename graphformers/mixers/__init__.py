"""Global mixers: attention-like modules that mix information across all nodes of a graph.
The interface is documented in :mod:`graphformers.mixers.base`."""
from graphformers.mixers.base import GlobalMixer
from graphformers.mixers.full import FullAttention

__all__ = ["GlobalMixer", "FullAttention"]
