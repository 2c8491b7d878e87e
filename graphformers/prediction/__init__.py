"""Predictions from trained checkpoints: :class:`Predictor` (``graphformers.load(ckpt).predict(graphs)``)
and what ``python -m graphformers.predict`` reads and writes (:mod:`graphformers.prediction.inputs`)."""
from graphformers.prediction.predictor import PredictionInputError, Predictor

__all__ = ["PredictionInputError", "Predictor"]
