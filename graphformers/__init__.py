"""graphformers: graph transformers on PyTorch Geometric, assembled from recipes.

Parts register by name; import this package and use ``register_mixer`` etc. to add your own
(each kind's contract is the base class in its folder's ``base.py``).
"""
from graphformers.registry import (
    register_feature_encoder, register_local, register_mixer, register_model, register_pair_encoding,
    register_positional_encoder,
)
from graphformers import data, encoders, layers, local, mixers, models, pair_encodings  # noqa: F401  (registers built-ins)
from graphformers.data.base import register_dataset

__all__ = ["register_dataset", "register_feature_encoder", "register_local", "register_mixer", "register_model",
           "register_pair_encoding", "register_positional_encoder"]
__version__ = "0.1.0"
