"""Layers that combine local blocks and global mixers."""
from graphformers.layers.gps import GPSLayer

__all__ = ["GPSLayer"]
