"""Batches split across processes so that every item is used exactly once per epoch."""
from __future__ import annotations

from typing import Iterator, Literal

import torch
from torch import Tensor
from torch.utils.data import Sampler

Order = Literal["sequential", "per_epoch", "fixed"]


class GlobalBatchSampler(Sampler[list[int]]):
    """Per-process batches of ``batch_size`` items that together form one global batch.

    Items are ordered (``sequential``; ``per_epoch``: shuffled from ``(seed, epoch)``; ``fixed``:
    one shuffle from ``seed``, the same every epoch), cut into global batches of
    ``batch_size * num_replicas`` and each global batch is dealt round-robin to the ranks (rank
    ``r`` takes positions ``r, r + W, ...``). So one process with ``batch_size * W`` sees the same
    global batches as ``W`` processes, every rank runs the same number of steps (DDP's collectives
    line up) and every item is used exactly once per epoch: torch's ``DistributedSampler`` repeats
    items to even out the ranks (evaluation would count them twice) or drops them. A last global
    batch smaller than ``W`` (some rank would get nothing) is merged into the one before it.
    """

    def __init__(self, size: int, batch_size: int, num_replicas: int = 1, rank: int = 0,
                 order: Order = "sequential", seed: int = 0) -> None:
        if size < num_replicas:
            raise ValueError(f"{size} items cannot be split across {num_replicas} processes (each needs at least "
                             f"one); train on fewer devices/nodes or use a larger split.")
        self.size, self.batch_size, self.num_replicas, self.rank = size, batch_size, num_replicas, rank
        self.order, self.seed, self.epoch = order, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """Lightning calls this before every epoch; only ``per_epoch`` order uses it."""
        self.epoch = epoch

    def global_batches(self) -> list[Tensor]:
        """This epoch's global batches (item indices), the same on every rank."""
        if self.order == "sequential":
            items = torch.arange(self.size)
        else:
            draw = self.seed + (self.epoch if self.order == "per_epoch" else 0)
            items = torch.randperm(self.size, generator=torch.Generator().manual_seed(draw))
        batches = list(items.split(self.batch_size * self.num_replicas))
        if len(batches) > 1 and len(batches[-1]) < self.num_replicas:
            batches[-2:] = [torch.cat(batches[-2:])]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.global_batches():
            yield batch[self.rank::self.num_replicas].tolist()

    def __len__(self) -> int:
        step = self.batch_size * self.num_replicas
        count = -(-self.size // step)
        return count - 1 if count > 1 and 0 < self.size % step < self.num_replicas else count
