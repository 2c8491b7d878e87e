"""Global mixers: attention-like modules that mix information across all nodes of a graph.
The interface is documented in :mod:`graphformers.mixers.base`."""
from graphformers.mixers.aft import AttentionFreeTransformer
from graphformers.mixers.base import GlobalMixer
from graphformers.mixers.cat import CircularConvolutionalAttention
from graphformers.mixers.expander import ExpanderEdges
from graphformers.mixers.exphormer import Exphormer
from graphformers.mixers.full import FullAttention
from graphformers.mixers.mamba import MambaMixer
from graphformers.mixers.performer import Performer
from graphformers.mixers.polynormer import PolynormerAttention
from graphformers.mixers.sgformer import SGFormerAttention

__all__ = ["GlobalMixer", "FullAttention", "Performer", "PolynormerAttention", "Exphormer", "ExpanderEdges",
           "AttentionFreeTransformer", "SGFormerAttention", "MambaMixer",
           "CircularConvolutionalAttention"]
