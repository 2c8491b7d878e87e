"""The run's pre-flight: every check that needs the loaded data, the built model or the Trainer,
in one place, run before anything is written or trained (recipe-only checks run when the recipe
is loaded, :mod:`graphformers.recipe.checks`)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytorch_lightning as pl
from pytorch_lightning.accelerators import CPUAccelerator

from graphformers.encoders.precompute import NodeEncoding
from graphformers.pair_encodings.base import PairEncoding
from graphformers.pair_encodings.precompute import pair_memory_bytes
from graphformers.recipe import Recipe, RecipeError
from graphformers.resources import MEMORY_SHARE, machine_memory_bytes

if TYPE_CHECKING:  # type hints only: the pre-flight reads what the runner built
    from torch_geometric.transforms import BaseTransform

    from graphformers.data.datamodule import GraphDataModule
    from graphformers.models.base import GraphModel

FLOAT_BYTES = 4


def check_before_training(datamodule: GraphDataModule, model: GraphModel, transforms: Sequence[BaseTransform]) -> None:
    """Raise a :class:`~graphformers.errors.GraphformersError` for a run that cannot work on this data.

    Args:
        datamodule (GraphDataModule): its loaded data.
        model (GraphModel): its built model.
        transforms (sequence of BaseTransform): the model's precompute transforms.
    """
    datamodule.encoded.validate()
    datamodule.encoded.check_batching()
    model.check_graph_size(datamodule.encoded.largest_graph_nodes())
    budget = int(machine_memory_bytes() * MEMORY_SHARE)
    check_pair_memory(datamodule, transforms, budget - check_encoding_memory(datamodule, transforms, budget))


def check_encoding_memory(datamodule: GraphDataModule, transforms: Sequence[BaseTransform], budget: int) -> int:
    """Refuse node encodings whose stored size (nodes x floats per node x 4 bytes, over the three
    splits) exceeds ``budget`` bytes, before the precompute allocates any of it; returns that size.

    Args:
        datamodule (GraphDataModule): the loaded data.
        transforms (sequence of BaseTransform): the precompute transforms (node encodings are counted).
        budget (int): bytes the encodings may take.
    """
    encodings = [t for t in transforms if isinstance(t, NodeEncoding)]
    if not encodings:
        return 0
    try:
        channels = sum(encoding.channels_per_node for encoding in encodings)
    except NotImplementedError as error:
        raise RecipeError(f"model.encoders: {error}: a NodeEncoding states how many floats it stores per node "
                          f"(e.g. 2 * k for k eigenvectors and eigenvalues), so its memory is checked before the "
                          f"precompute; add the property to the plugin.") from None
    splits = (datamodule.splits.train, datamodule.splits.val, datamodule.splits.test)
    nodes = sum(graph.num_nodes for split in splits for graph in split)
    needed = nodes * channels * FLOAT_BYTES
    if needed <= budget:
        return needed
    largest = max(graph.num_nodes for split in splits for graph in split)
    each = ", ".join(f"{encoding!r}: {encoding.channels_per_node:,}" for encoding in encodings)
    raise RecipeError(
        f"model.encoders: the positional encodings would take {needed / 2**30:,.1f} GiB ({nodes:,} nodes x floats per "
        f"node: {each}), above the {budget / 2**30:,.1f} GiB they may use (half of this machine's memory). Lower "
        f"the encoders' k or steps; the largest graph here has {largest:,} nodes, so k above {largest - 1:,} only "
        f"adds zero padding.")


def check_pair_memory(datamodule: GraphDataModule, transforms: Sequence[BaseTransform], budget: int) -> None:
    """Refuse pair encodings on sampled subgraphs, and precomputed ones whose stored size could exceed ``budget`` bytes
    (at most
    ``N^2`` pairs per graph, :func:`~graphformers.pair_encodings.precompute.pair_memory_bytes`),
    before the precompute allocates any of it; computed per batch they hold no memory.

    Args:
        datamodule (GraphDataModule): the loaded data.
        transforms (sequence of BaseTransform): the precompute transforms (pair encodings are counted).
        budget (int): bytes the pair encodings may take.
    """
    encodings = [t for t in transforms if isinstance(t, PairEncoding)]
    if encodings and datamodule.encoded.samples_subgraphs:
        option = "neighbors" if datamodule.config.neighbors is not None else "node_parts"
        raise RecipeError(f"model.pair_encodings are stored per graph, but data.{option} trains on sampled subgraphs "
                          f"of one graph; remove data.{option} (full-batch training) or the pair encodings.")
    if not encodings or datamodule.encoded.pairs_per_batch:
        return
    try:
        sizes = [graph.num_nodes for split in (datamodule.splits.train, datamodule.splits.val, datamodule.splits.test)
                 for graph in split]
        needed = pair_memory_bytes(sizes, encodings)
    except NotImplementedError as error:
        raise RecipeError(f"model.pair_encodings: {error}: a PairEncoding states how many floats it stores per pair, "
                          f"so its memory is checked before the precompute; add the property to the plugin.") from None
    if needed <= budget:
        return
    pairs = sum(n * n for n in sizes)
    raise RecipeError(
        f"model.pair_encodings: {', '.join(map(repr, encodings))} would take up to {needed / 2**30:,.1f} GiB when "
        f"precomputed ({pairs:,} node pairs in {len(sizes):,} graphs, the largest of {max(sizes):,} nodes), above the "
        f"{max(budget, 0) / 2**30:,.1f} GiB encodings may use here (half of this machine's memory, less the node "
        f"encodings). Set data.pair_storage: per_batch to compute them for each mini-batch instead (data.num_workers "
        f"share the work), or use fewer channels.")


def check_trainer(recipe: Recipe, trainer: pl.Trainer) -> None:
    """Settings this Trainer cannot run, found once Lightning has resolved the hardware.

    Args:
        recipe (Recipe): the run's recipe.
        trainer (pl.Trainer): the configured trainer (not yet fitted).
    """
    if recipe.train.sync_batchnorm and isinstance(trainer.accelerator, CPUAccelerator):
        raise RecipeError("train.sync_batchnorm shares batch-norm statistics through PyTorch's SyncBatchNorm, which "
                          "runs on GPUs only; remove it on CPU (each process then normalises its own share).")
    if trainer.world_size > 1 and recipe.train.on_nonfinite_loss == "skip":
        raise RecipeError("train.on_nonfinite_loss: skip works in one process only (under DDP a step skipped by all "
                          "processes leaves its gradient synchronisation unfinished); use stop with more processes.")
