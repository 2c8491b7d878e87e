"""Batches split across processes so that every item is used exactly once per epoch."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import torch
from torch import Tensor
from torch.utils.data import Sampler

from graphformers.errors import GraphformersError

Order = Literal["sequential", "per_epoch", "fixed"]


class TooFewItemsError(GraphformersError, ValueError):
    """A split with fewer items than processes: some process would have nothing to train on."""


class ItemOrder(Sampler[int]):
    """The order of a split's items in one epoch: ``sequential``, ``per_epoch`` (shuffled from
    ``seed + epoch``, torch's ``DistributedSampler`` convention) or ``fixed`` (one shuffle from
    ``seed``). Lightning calls :meth:`set_epoch` before every epoch on a loader's
    ``batch_sampler.sampler``, which is where :class:`GlobalBatchSampler` keeps this."""

    def __init__(self, size: int, order: Order = "sequential", seed: int = 0) -> None:
        self.size, self.order, self.seed, self.epoch = size, order, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def items(self) -> Tensor:
        """``[size]`` item indices in this epoch's order."""
        if self.order == "sequential":
            return torch.arange(self.size)
        draw = self.seed + (self.epoch if self.order == "per_epoch" else 0)
        return torch.randperm(self.size, generator=torch.Generator().manual_seed(draw))

    def __iter__(self) -> Iterator[int]:
        return iter(self.items().tolist())

    def __len__(self) -> int:
        return self.size


class GlobalBatchSampler(Sampler[list[int]]):
    """Per-process batches of ``batch_size`` items that together form one global batch.

    The epoch's items (:class:`ItemOrder`) are cut into global batches of ``batch_size * W`` and
    each global batch is dealt round-robin to the ``W`` ranks (rank ``r`` takes positions
    ``r, r + W, ...``). So ``W`` processes see the global batches one process with
    ``batch_size * W`` sees, every rank runs the same number of steps (DDP's collectives line up)
    and every item is used exactly once per epoch: torch's ``DistributedSampler`` repeats items to
    even out the ranks (evaluation would count them twice) or drops them. One exception: a last
    global batch smaller than ``W`` (some rank would get nothing) is merged into the one before it,
    so one rank may get ``batch_size + 1`` items there.
    """

    def __init__(self, size: int, batch_size: int, num_replicas: int = 1, rank: int = 0,
                 order: Order = "sequential", seed: int = 0) -> None:
        if 0 < size < num_replicas:
            raise TooFewItemsError(f"{size} items cannot be split across {num_replicas} processes (each needs at "
                                   f"least one); train on fewer devices/nodes or use a larger split.")
        self.sampler = ItemOrder(size, order, seed)
        self.size, self.batch_size, self.num_replicas, self.rank = size, batch_size, num_replicas, rank
        self._resume: tuple[int, int] | None = None

    def resume_within_epoch(self, epoch: int, done: int) -> None:
        """Make the next pass over epoch ``epoch`` start after its first ``done`` batches (those a
        resumed run trained on before it stopped); the passes after it are whole again. The length
        stays the epoch's: a resumed Lightning loop counts the done batches as fetched.

        Args:
            epoch (int): the epoch resumed (also set as this sampler's epoch).
            done (int): its batches already trained.
        """
        self.sampler.set_epoch(epoch)
        self._resume = (epoch, done)

    def global_batches(self) -> list[Tensor]:
        """This epoch's global batches (item indices), the same on every rank."""
        if self.size == 0:
            return []
        batches = list(self.sampler.items().split(self.batch_size * self.num_replicas))
        if len(batches) > 1 and len(batches[-1]) < self.num_replicas:
            batches[-2:] = [torch.cat(batches[-2:])]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        resume, self._resume = self._resume, None
        done = resume[1] if resume is not None and resume[0] == self.sampler.epoch else 0
        for batch in self.global_batches()[done:]:
            yield batch[self.rank::self.num_replicas].tolist()

    def __len__(self) -> int:
        step = self.batch_size * self.num_replicas
        count = -(-self.size // step)
        return count - 1 if count > 1 and 0 < self.size % step < self.num_replicas else count
