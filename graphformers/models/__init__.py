"""Whole models, built from a recipe's ``model`` section and a dataset's :class:`TaskInfo`;
the contract is :class:`graphformers.models.base.GraphModel`."""
from graphformers.models.base import GraphModel
from graphformers.models.gat import GATModel
from graphformers.models.gps import GPSModel
from graphformers.models.grit import GRITModel
from graphformers.models.mpnn import MPNNModel
from graphformers.models.polynormer import PolynormerModel
from graphformers.models.sgformer import SGFormerModel

__all__ = ["GraphModel", "GATModel", "GPSModel", "GRITModel", "MPNNModel", "PolynormerModel", "SGFormerModel"]
