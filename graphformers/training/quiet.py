"""Lightning's output that tells a user nothing about their run, kept off the terminal: its tip
advertising a hosted logger, and the deprecation warning its own pytree code triggers in torch's
``LeafSpec`` (Lightning's to mend; nothing a recipe can change). Everything else Lightning says is kept."""
from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

LIGHTNING_INFO = "pytorch_lightning.utilities.rank_zero"
"""The logger of Lightning's ``rank_zero_info`` messages (the hardware summary, tips)."""

ADVERTISEMENTS = ("litlogger", "litmodels")
"""Words found only in Lightning's tips recommending its hosted services."""

LIGHTNING_DEPRECATIONS = r"`isinstance\(treespec, LeafSpec\)` is deprecated"
"""torch's warning about the ``LeafSpec`` check inside Lightning's ``_pytree`` (every training step)."""


class _WithoutAdvertisements(logging.Filter):
    """Drops log records that name one of :data:`ADVERTISEMENTS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(word in message for word in ADVERTISEMENTS)


@contextmanager
def quiet_lightning() -> Iterator[None]:
    """Build and run a Lightning trainer in this context to leave out the messages above."""
    lightning = logging.getLogger(LIGHTNING_INFO)
    advertisements = _WithoutAdvertisements()
    lightning.addFilter(advertisements)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=LIGHTNING_DEPRECATIONS)
            yield
    finally:
        lightning.removeFilter(advertisements)
