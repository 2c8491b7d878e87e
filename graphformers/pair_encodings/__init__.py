"""Pair encodings: features of node pairs (``rrwp``, ``spd``, ``resistance``), stored sparse per graph.
The contract is :mod:`graphformers.pair_encodings.base`."""
from graphformers.pair_encodings.base import PairEncoding
from graphformers.pair_encodings.random_walk import RRWP
from graphformers.pair_encodings.resistance import EffectiveResistance
from graphformers.pair_encodings.shortest_path import ShortestPathDistance

__all__ = ["PairEncoding", "RRWP", "ShortestPathDistance", "EffectiveResistance"]
