"""Whole models, built from a recipe's ``model`` section and a dataset's :class:`TaskInfo`."""
from graphformers.models.gps import GPSModel

__all__ = ["GPSModel"]
