"""graphformers: graph transformers on PyTorch Geometric, assembled from recipes.

Parts register by name; import this package and use ``register_mixer`` etc. to add your own
(each kind's contract is the base class in its folder's ``base.py``). The built-in parts and datasets
register on the first lookup in their registry, so this import loads none of them, nor Lightning.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from graphformers.registry import (
    register_dataset,
    register_feature_encoder,
    register_local,
    register_mixer,
    register_model,
    register_ordering,
    register_pair_encoding,
    register_positional_encoder,
)

if TYPE_CHECKING:  # the training stack is imported on use
    from graphformers.prediction import Predictor



def load(checkpoint: str) -> Predictor:
    """A trained model from its checkpoint, ready to predict: ``graphformers.load(ckpt).predict(graphs)``
    (:class:`~graphformers.prediction.Predictor`).

    Args:
        checkpoint (str): a ``.ckpt`` written by a graphformers run.
    """
    from graphformers.prediction import Predictor as TrainedPredictor

    return TrainedPredictor.from_checkpoint(checkpoint)


__all__ = ["load", "register_dataset", "register_feature_encoder", "register_local", "register_mixer", "register_model",
           "register_ordering", "register_pair_encoding", "register_positional_encoder"]
__version__ = "0.1.0"
