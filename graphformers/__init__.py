"""graphformers: graph transformers on PyTorch Geometric, assembled from recipes.

Parts register by name; import this package and use ``register_mixer`` etc. to add your own.
"""
from graphformers.registry import (
    register_dataset, register_encoder, register_local, register_mixer, register_model,
)
from graphformers import data, encoders, layers, local, mixers, models  # noqa: F401  (registers built-ins)

__all__ = ["register_dataset", "register_encoder", "register_local", "register_mixer", "register_model"]
__version__ = "0.1.0"
