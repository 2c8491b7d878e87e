"""One Lightning DataModule for every registered dataset."""
from __future__ import annotations

import inspect
import logging
import os
import time
from pathlib import Path
from typing import Optional, Sequence

import pytorch_lightning as pl
import torch
from torch.utils.data import DistributedSampler
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader, RandomNodeLoader
from torch_geometric.transforms import BaseTransform, Compose

from graphformers.data.encoding_cache import EncodingCache
from graphformers.data.task import SplitDataset, TaskInfo
from graphformers.data.validation import validate_graphs
from graphformers.encoders.precompute import NodeEncoding, attach_node_encodings, compute_node_encodings
from graphformers.recipe import DataConfig
from graphformers.registry import DATASETS

DATA_ROOT_VARIABLE = "GRAPHFORMERS_DATA"
log = logging.getLogger(__name__)


def data_root(config: DataConfig) -> Path:
    """``data.root`` if set, else ``$GRAPHFORMERS_DATA``, else ``./datasets``."""
    return Path(config.root or os.environ.get(DATA_ROOT_VARIABLE) or "datasets")


def load_split_dataset(config: DataConfig) -> SplitDataset:
    """Build the registered dataset ``config.name`` with its options (and the data root if it takes one)."""
    builder = DATASETS.get(config.name)
    options = dict(config.options)
    if "root" in inspect.signature(builder).parameters:
        options["root"] = str(data_root(config))
    return builder(**options)


class GraphDataModule(pl.LightningDataModule):
    """Loads a dataset's splits eagerly (so its :class:`TaskInfo` can shape the model), then
    applies the model's precompute transforms once to every graph before training."""

    def __init__(self, config: DataConfig, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        self.seed = seed
        self.splits = load_split_dataset(config)
        self.precompute: list[BaseTransform] = []
        self._prepared: dict[str, Sequence[Data]] = {}

    @property
    def info(self) -> TaskInfo:
        """The dataset's task: level, type, sizes, metric and feature encoders."""
        return self.splits.info

    def largest_graph_nodes(self) -> int:
        """Nodes of the largest graph a model will see in one batch (a partition's with ``data.node_parts``)."""
        largest = max((graph.num_nodes for name in ("train", "val", "test") for graph in getattr(self.splits, name)),
                      default=0)
        parts = self.config.node_parts
        return -(-largest // parts) if parts else largest

    def set_precompute(self, transforms: list[BaseTransform]) -> None:
        """Transforms applied once to each graph (positional encodings, ...)."""
        self.precompute = list(transforms)
        self._prepared.clear()

    def split(self, name: str) -> Sequence[Data]:
        """The ``train`` / ``val`` / ``test`` graphs with precompute transforms applied (memoised).

        Every graph is first checked (:func:`validate_graphs`: non-finite features or targets,
        edges out of range, feature widths that do not fit the task). Node encodings (positional
        encoders) go through the batched precompute and the on-disk cache; any other transform (a
        mixer's structure) is applied graph by graph.
        """
        if name not in self._prepared:
            graphs = getattr(self.splits, name)
            validate_graphs(graphs, self.info, name)
            if self.precompute:
                graphs = [graph.clone() for graph in graphs]
                encodings = [t for t in self.precompute if isinstance(t, NodeEncoding)]
                if encodings:
                    self._encode(name, graphs, encodings)
                others = Compose([t for t in self.precompute if not isinstance(t, NodeEncoding)])
                graphs = [others(graph) for graph in graphs]
            self._prepared[name] = graphs
        return self._prepared[name]

    def encoding_cache(self) -> Optional[EncodingCache]:
        """``encodings/`` in the dataset's folder (``<data root>/<dataset name>`` for generated
        datasets), or None when ``data.cache`` is off."""
        if not self.config.cache:
            return None
        directory = self.splits.directory or data_root(self.config) / self.config.name
        return EncodingCache(directory / "encodings", {"name": self.config.name, "options": self.config.options})

    def _encode(self, split: str, graphs: list[Data], encodings: list[NodeEncoding]) -> None:
        cache = self.encoding_cache()
        path = cache.path(split, graphs, encodings) if cache else None
        encoded = cache.load(path, graphs) if cache else None
        if encoded is None:
            started = time.perf_counter()
            encoded = compute_node_encodings(graphs, encodings, workers=self.config.precompute_workers)
            log.info("%s: computed %s for %d graphs in %.1f s", split, encodings, len(graphs),
                     time.perf_counter() - started)
            if cache:
                cache.store(path, graphs, encoded)
        else:
            log.info("%s: loaded %s from %s", split, encodings, path)
        attach_node_encodings(graphs, encoded)

    def _loader(self, graphs: Sequence[Data], shuffle: bool) -> torch.utils.data.DataLoader:
        """Graph mini-batches, or (``data.node_parts``) random node partitions of the one graph."""
        workers = self.config.num_workers
        common = dict(num_workers=workers, persistent_workers=workers > 0,
                      generator=torch.Generator().manual_seed(self.seed))
        if self.config.node_parts is not None:
            if len(graphs) != 1:
                raise ValueError(f"data.node_parts splits one large graph, but {self.config.name!r} has "
                                 f"{len(graphs)} graphs per split; remove data.node_parts (use data.batch_size).")
            (graph,) = graphs
            return NodePartitionLoader(graph, self.config.node_parts, sampler=self._sampler(range(graph.num_nodes),
                                                                                              shuffle), **common)
        return DataLoader(graphs, batch_size=self.config.batch_size, sampler=self._sampler(graphs, shuffle), **common)

    def _sampler(self, items: Sequence, shuffle: bool) -> DistributedSampler:
        """Split across ranks; shuffled by ``(seed, epoch)`` for training, so epoch ``e``'s order is the
        same whether or not the run was resumed. Node partitions for evaluation are one random draw
        from the seed, the same every epoch; graph batches for evaluation keep the dataset's order."""
        trainer = self.trainer
        ranks = dict(num_replicas=trainer.world_size if trainer else 1, rank=trainer.global_rank if trainer else 0)
        if shuffle:
            return DistributedSampler(items, shuffle=True, seed=self.seed, **ranks)
        if self.config.node_parts is not None:
            return FixedDrawSampler(items, shuffle=True, seed=self.seed, **ranks)
        return DistributedSampler(items, shuffle=False, **ranks)

    def train_dataloader(self) -> torch.utils.data.DataLoader:
        """Shuffled training batches; the loader's own generator keeps iterator creation from
        consuming the global RNG that dropout uses."""
        return self._loader(self.split("train"), shuffle=True)

    def val_dataloader(self) -> torch.utils.data.DataLoader:
        """Validation batches in fixed order."""
        return self._loader(self.split("val"), shuffle=False)

    def test_dataloader(self) -> torch.utils.data.DataLoader:
        """Test batches in fixed order."""
        return self._loader(self.split("test"), shuffle=False)


class FixedDrawSampler(DistributedSampler):
    """A shuffled ``DistributedSampler`` that ignores ``set_epoch`` (Lightning calls it on evaluation
    loaders too): evaluation partitions stay the same across epochs, so validation scores compare."""

    def set_epoch(self, epoch: int) -> None:
        pass


class NodePartitionLoader(RandomNodeLoader):
    """PyG's ``RandomNodeLoader`` (random node partitions of one graph, each batch the induced
    subgraph with all node attributes sliced, ``target_mask`` included) yielding a one-graph
    ``Batch``, the shape the models and training step read. Polynormer's mini-batching for
    ogbn-products."""

    def collate_fn(self, index: list[int]) -> Batch:
        return Batch.from_data_list([super().collate_fn(index)])
