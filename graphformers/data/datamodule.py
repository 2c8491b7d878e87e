"""One Lightning DataModule for every registered dataset: the encoded splits
(:mod:`~graphformers.data.encoded_splits`) served by the loader of the recipe's batching mode
(:mod:`~graphformers.data.loaders`), split across processes, and moved to the device."""
from __future__ import annotations

from collections.abc import Sequence

import pytorch_lightning as pl
import torch
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from graphformers.data.base import SplitDataset
from graphformers.data.distributed import GlobalBatchSampler, Order
from graphformers.data.encoded_splits import PREDICT, EncodedSplits
from graphformers.data.full_batch import FullBatches, one_batch_loader
from graphformers.data.loaders import graph_batches, neighbor_batches, partition_batches, whole_graph
from graphformers.data.sampling import UniformNeighborSampler
from graphformers.recipe import DataConfig
from graphformers.registry import DATASETS
from graphformers.resources import data_root
from graphformers.task import TaskInfo


def load_split_dataset(config: DataConfig) -> SplitDataset:
    """The registered dataset ``config.name`` under the data root, with its options.

    Args:
        config (DataConfig): the recipe's ``data`` section.
    """
    return DATASETS.get(config.name).load(data_root(config.root), config.options)


class GraphDataModule(pl.LightningDataModule):
    """Loads a dataset's splits eagerly (so its :class:`TaskInfo` can shape the model), then serves
    them with the model's precompute transforms applied once to every graph.

    Args:
        config (DataConfig): the recipe's ``data`` section.
        seed (int, optional): seeds the batch order and the neighbour sampler (``train.seed``).
        splits (SplitDataset, optional): the splits (default: the registered dataset ``config.name``).
        predict (sequence of Data, optional): new graphs, the split :meth:`predict_dataloader` serves
            (default: none; then the test split).
    """

    def __init__(self, config: DataConfig, seed: int = 0, splits: SplitDataset | None = None,
                 predict: Sequence[Data] = ()) -> None:
        super().__init__()
        self.config = config
        self.seed = seed
        self.encoded = EncodedSplits(config, load_split_dataset(config) if splits is None else splits, predict)
        self._neighbor_samplers: dict[int, tuple[torch.Tensor, UniformNeighborSampler]] = {}
        self._full_batches = FullBatches()
        self._resume: tuple[int, int] | None = None

    @property
    def splits(self) -> SplitDataset:
        """The dataset's splits as loaded."""
        return self.encoded.splits

    @property
    def info(self) -> TaskInfo:
        """The dataset's task: level, type, sizes, metric and feature encoders."""
        return self.encoded.info

    def set_precompute(self, transforms: list[BaseTransform]) -> None:
        """Transforms applied once to each graph (:meth:`EncodedSplits.set_precompute`)."""
        self.encoded.set_precompute(transforms)
        self._full_batches.clear()

    def split(self, name: str) -> Sequence[Data]:
        """The split ``name`` with the precompute transforms applied (:meth:`EncodedSplits.split`)."""
        return self.encoded.split(name, processes=self._ranks()[0])

    def loader(self, graphs: Sequence[Data], order: Order) -> torch.utils.data.DataLoader:
        """The batches of ``graphs`` in the recipe's batching mode: one full batch (one graph for
        node-level prediction, in one process), mini-batches of whole graphs, or, on one large graph,
        random node partitions (``data.node_parts``), sampled neighbourhoods (``data.neighbors``) or,
        to evaluate, the whole graph (``data.evaluate: full_graph``). Batches bound for a CUDA device
        come in pinned memory, so they move while the previous step computes."""
        encoded, config = self.encoded, self.config
        # the loader's own generator: creating its iterator must not consume the global RNG dropout uses
        settings = dict(num_workers=config.num_workers, persistent_workers=config.num_workers > 0,
                        pin_memory=self._on_cuda(), generator=torch.Generator().manual_seed(self.seed))
        structure = encoded.structure if encoded.precompute else None
        if not encoded.samples_subgraphs:
            if encoded.is_one_graph(graphs) and self._ranks()[0] == 1:
                return one_batch_loader(self._full_batches.batch(graphs[0]))
            return graph_batches(graphs, self._batches(len(graphs), config.batch_size, order), encoded.pair_encodings,
                                 encoded.pairs_per_batch, **settings)
        graph = encoded.one_graph(graphs)
        if order != "per_epoch" and config.evaluate == "full_graph":
            return whole_graph(graph, structure, *self._ranks())
        if config.node_parts is not None:
            sampler = self._batches(graph.num_nodes, encoded.part_size(graph.num_nodes), order)
            return partition_batches(graph, sampler, structure, **settings)
        targets = int(graph.target_mask.sum()) if "target_mask" in graph else graph.num_nodes
        return neighbor_batches(graph, self._neighbor_sampler(graph), self._batches(targets, config.batch_size, order),
                                structure, **settings)

    def _neighbor_sampler(self, graph: Data) -> UniformNeighborSampler:
        """One sampler per edge set: the splits of one large graph share its edges, and a sampler's
        index (edges sorted by destination) costs two integers per edge."""
        key = id(graph.edge_index)  # kept with its sampler below, so the id cannot be reused
        if key not in self._neighbor_samplers:
            sampler = UniformNeighborSampler(graph, self.config.neighbors, seed=self.seed)
            self._neighbor_samplers[key] = (graph.edge_index, sampler)
        return self._neighbor_samplers[key][1]

    def _batches(self, size: int, batch_size: int, order: Order) -> GlobalBatchSampler:
        """This process's share of every global batch (see :class:`GlobalBatchSampler`)."""
        world, rank = self._ranks()
        return GlobalBatchSampler(size, batch_size, num_replicas=world, rank=rank, order=order, seed=self.seed)

    def _on_cuda(self) -> bool:
        return self.trainer is not None and self.trainer.strategy.root_device.type == "cuda"

    def _ranks(self) -> tuple[int, int]:
        """``(processes, this process's rank)``; ``(1, 0)`` outside a trainer."""
        trainer = self.trainer
        return (trainer.world_size, trainer.global_rank) if trainer else (1, 0)

    def transfer_batch_to_device(self, batch: object, device: torch.device, dataloader_idx: int) -> object:
        """A full batch of one graph is moved (and cast to the model's dtype) once, its splits sharing
        the moved tensors; a graph mini-batch to CUDA without blocking the host (it is pinned; Lightning
        would move a PyG batch blocking); any other batch as Lightning moves it."""
        if self._full_batches.holds(batch):
            module = self.trainer.lightning_module if self.trainer else None
            return self._full_batches.placed(batch, device, module.dtype if module is not None else None)
        if isinstance(batch, Data) and device.type == "cuda":
            return batch.to(device, non_blocking=True)
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    def on_after_batch_transfer(self, batch: Data, dataloader_idx: int) -> Data:
        """Floating-point tensors of the batch in the model's dtype: with ``train.precision`` 64-true
        (or 16-true / bf16-true) Lightning converts the weights but not a PyG ``Batch`` (no collection
        Lightning walks), so float features and encodings would meet double weights."""
        dtype = self.trainer.lightning_module.dtype
        for key, value in batch.items():
            if isinstance(value, torch.Tensor) and value.is_floating_point() and value.dtype != dtype:
                batch[key] = value.to(dtype)
        return batch

    def train_dataloader(self) -> torch.utils.data.DataLoader:
        """Training batches shuffled from ``(seed, epoch)``: epoch ``e``'s order is the same whether or
        not the run was resumed, and drawing it does not touch the global RNG that dropout uses. A
        resumed run (:meth:`resume_at`) starts with its epoch's order, after the batches done."""
        loader = self.loader(self.split("train"), "per_epoch")
        resume, self._resume = self._resume, None
        sampler = getattr(loader, "batch_sampler", None)
        if resume is None or not isinstance(sampler, GlobalBatchSampler):
            return loader
        epoch, done = resume
        # Lightning sets the epoch only after starting the loader's iterator, whose worker processes
        # (data.num_workers) already draw batches: the resumed epoch must be known now
        sampler.sampler.set_epoch(epoch)
        if 0 < done < len(sampler):
            sampler.resume_within_epoch(epoch, done)
        return loader

    def resume_at(self, epoch: int, done: int) -> None:
        """The run resumes from a checkpoint whose next batch is batch ``done`` of epoch ``epoch`` (its
        ``TrainingPosition``): the next training loader built starts there.

        Args:
            epoch (int): the epoch the resumed run trains first.
            done (int): its batches trained before the checkpoint (0: it starts from its first).
        """
        self._resume = (epoch, done)

    def val_dataloader(self) -> torch.utils.data.DataLoader:
        """Validation batches in fixed order (node partitions: one fixed random draw, so scores compare)."""
        return self.loader(self.split("val"), self._evaluation_order)

    def test_dataloader(self) -> torch.utils.data.DataLoader:
        """Test batches in fixed order (node partitions: one fixed random draw)."""
        return self.loader(self.split("test"), self._evaluation_order)

    def predict_dataloader(self) -> torch.utils.data.DataLoader:
        """The ``predict`` graphs' batches in order, or the test split's when none were given."""
        return self.loader(self.split(PREDICT if self.encoded.predict else "test"), self._evaluation_order)

    @property
    def _evaluation_order(self) -> Order:
        return "fixed" if self.config.node_parts is not None else "sequential"
