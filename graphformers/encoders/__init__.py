"""Input encoders: raw-feature encoders (``linear``, ``embedding``, ``atom``, ``bond``) and
positional/structural encoders (``lap``, ``maglap``, ``rwse``, ``degree``). See :mod:`graphformers.encoders.base`."""
from graphformers.encoders.base import FeatureEncoder, PositionalEncoder
from graphformers.encoders.degree import DegreeEncoding, NodeDegrees
from graphformers.encoders.features import CategoryEncoder, LinearEncoder, OGBAtomEncoder, OGBBondEncoder
from graphformers.encoders.laplacian import LaplacianEigenvectors, LapPE
from graphformers.encoders.magnetic_laplacian import MagLapPE, MagneticLaplacianEigenvectors
from graphformers.encoders.random_walk import RWSE, RandomWalkLandingProbabilities

__all__ = [
    "FeatureEncoder", "PositionalEncoder", "LinearEncoder", "CategoryEncoder", "OGBAtomEncoder",
    "OGBBondEncoder", "LapPE", "LaplacianEigenvectors", "MagLapPE", "MagneticLaplacianEigenvectors", "RWSE",
           "RandomWalkLandingProbabilities",
    "DegreeEncoding", "NodeDegrees",
]
