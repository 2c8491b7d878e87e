"""Lightning's output that tells a user nothing about their run, kept off the terminal: its tip
advertising a hosted logger, the deprecation warning its own pytree code triggers in torch's
``LeafSpec`` (Lightning's to mend; nothing a recipe can change), and three warnings about what this
toolkit does on purpose (a third, on resuming mid-epoch, is left out by ``position.TrainingPosition`` only
where it is untrue). Everything else Lightning says is kept."""
from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

LIGHTNING_INFO = "pytorch_lightning.utilities.rank_zero"
"""The logger of Lightning's ``rank_zero_info`` messages (the hardware summary, tips)."""

ADVERTISEMENTS = ("litlogger", "litmodels")
"""Words found only in Lightning's tips recommending its hosted services."""

EXPECTED_WARNINGS = (
    # torch's warning about the LeafSpec check inside Lightning's own _pytree module
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
    # a resumed or requeued run writes into its own run folder, which holds its checkpoints
    r"Checkpoint directory .* exists and is not empty",
    # train.on_nonfinite_loss: skip returns None for a step whose loss is not finite (and counts it)
    r"`training_step` returned `None`",
    # predicting: GlobalBatchSampler gives every graph, in order (tests/test_predict.py), whatever drop_last says
    r"You are using a custom batch sampler `GlobalBatchSampler` for prediction",
)
"""Warnings (regular expressions) that say nothing a user can act on."""


class _WithoutAdvertisements(logging.Filter):
    """Drops log records that name one of :data:`ADVERTISEMENTS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(word in message for word in ADVERTISEMENTS)


@contextmanager
def quiet_lightning() -> Iterator[None]:
    """Build and run a Lightning trainer (training, prediction) in this context to leave out the messages above."""
    lightning = logging.getLogger(LIGHTNING_INFO)
    advertisements = _WithoutAdvertisements()
    lightning.addFilter(advertisements)
    try:
        with warnings.catch_warnings():
            for expected in EXPECTED_WARNINGS:
                warnings.filterwarnings("ignore", message=expected)
            yield
    finally:
        lightning.removeFilter(advertisements)
