"""The libraries' output that tells a user nothing about their run, kept off the terminal: Lightning's tip
advertising a hosted logger, the deprecation warning Lightning's own pytree code triggers in torch's
``LeafSpec`` (Lightning's to mend; nothing a recipe can change), three notices torch gives about what ogb,
PyG and our sparse adjacencies do safely, and three warnings about what this toolkit does on purpose (a fourth,
on resuming mid-epoch, is left out by ``position.TrainingPosition`` only where it is untrue). Everything
else the libraries say is kept.

Every command runs inside :func:`quiet_libraries` (:mod:`graphformers.cli.entry`), and so do
:func:`~graphformers.training.runner.run` and prediction when called from Python. Nothing is filtered
at import: importing graphformers leaves a program's warning filters as they were."""
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
    (r"`isinstance\(treespec, LeafSpec\)` is deprecated", ""),
    # a resumed or requeued run writes into its own run folder, which holds its checkpoints
    (r"Checkpoint directory .* exists and is not empty", ""),
    # train.on_nonfinite_loss: skip returns None for a step whose loss is not finite (and counts it)
    (r"`training_step` returned `None`", ""),
    # predicting: GlobalBatchSampler gives every graph, in order (tests/test_predict.py), whatever drop_last says
    (r"You are using a custom batch sampler `GlobalBatchSampler` for prediction", ""),
    # processing an OGB set: ogb makes each label a tensor of a read-only array, and copies it at once (.to(float32))
    (r"The given NumPy array is not writable", r"ogb\.graphproppred\."),
    # torch's notice that sparse CSR is in beta: RRWP's precompute and full-batch training's adj_t use it as documented
    (r"Sparse CSR tensor support is in beta", ""),
    # ... and PyG's to_torch_csr_tensor builds it from a valid edge index without torch's invariant checks
    (r"Sparse invariant checks are implicitly disabled", r"torch_geometric\.utils\."),
)
"""Warnings that say nothing a user can act on: (message, module), regular expressions matched at the start
of the warning's message and of the module it is raised in (``""``: any module)."""


class _WithoutAdvertisements(logging.Filter):
    """Drops log records that name one of :data:`ADVERTISEMENTS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(word in message for word in ADVERTISEMENTS)


@contextmanager
def quiet_libraries() -> Iterator[None]:
    """Run a command, or build and run a Lightning trainer (training, prediction), in this context to leave out
    the messages above. Threads started inside it (the pair-encoding precompute's) share its filters."""
    lightning = logging.getLogger(LIGHTNING_INFO)
    advertisements = _WithoutAdvertisements()
    lightning.addFilter(advertisements)
    try:
        with warnings.catch_warnings():
            for message, module in EXPECTED_WARNINGS:
                warnings.filterwarnings("ignore", message=message, module=module)
            yield
    finally:
        lightning.removeFilter(advertisements)
