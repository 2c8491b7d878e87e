"""Layers: the GPS layer (a local block and a global mixer) and GRIT's pair-attention layer."""
from graphformers.layers.gps import GPSLayer
from graphformers.layers.grit import GRITAttention, GRITLayer

__all__ = ["GPSLayer", "GRITAttention", "GRITLayer"]
