"""One Lightning DataModule for every registered dataset."""
from __future__ import annotations

import copy
import logging
import time
from typing import Callable, Optional, Sequence

import pytorch_lightning as pl
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader, NodeLoader
from torch_geometric.loader.dataloader import Collater
from torch_geometric.transforms import BaseTransform, Compose

from graphformers.data.base import SplitDataset
from graphformers.data.distributed import GlobalBatchSampler, Order
from graphformers.data.encoding_cache import EncodingCache
from graphformers.data.full_batch import FullBatches, one_batch_loader
from graphformers.data.sampling import PartitionCollate, SampledGraph, UniformNeighborSampler
from graphformers.data.validation import validate_graphs
from graphformers.encoders.precompute import NodeEncoding, attach_node_encodings, compute_node_encodings
from graphformers.mixers.size_groups import SizeBlockCollater
from graphformers.pair_encodings.all_pairs import PairBatchCollater
from graphformers.pair_encodings.base import PairEncoding
from graphformers.pair_encodings.precompute import attach_pair_encodings, compute_pair_encodings
from graphformers.recipe import DataConfig, RecipeError
from graphformers.registry import DATASETS
from graphformers.resources import data_root
from graphformers.task import TaskInfo

log = logging.getLogger(__name__)


def load_split_dataset(config: DataConfig) -> SplitDataset:
    """The registered dataset ``config.name`` under the data root, with its options.

    Args:
        config (DataConfig): the recipe's ``data`` section.
    """
    return DATASETS.get(config.name).load(data_root(config.root), config.options)


class GraphDataModule(pl.LightningDataModule):
    """Loads a dataset's splits eagerly (so its :class:`TaskInfo` can shape the model), then
    applies the model's precompute transforms once to every graph before training."""

    def __init__(self, config: DataConfig, seed: int = 0, splits: Optional[SplitDataset] = None) -> None:
        super().__init__()
        self.config = config
        self.seed = seed
        self.splits = load_split_dataset(config) if splits is None else splits
        self.precompute: list[BaseTransform] = []
        self._structure = Compose([])
        self._prepared: dict[str, Sequence[Data]] = {}
        self._validated: set[str] = set()
        self._neighbor_samplers: dict[int, tuple[torch.Tensor, UniformNeighborSampler]] = {}
        self._full_batches = FullBatches()
        self._encoded: dict[tuple, dict[str, torch.Tensor]] = {}
        self._pair_encodings: list[PairEncoding] = []

    @property
    def info(self) -> TaskInfo:
        """The dataset's task: level, type, sizes, metric and feature encoders."""
        return self.splits.info

    def largest_graph_nodes(self) -> int:
        """Nodes of the largest graph a model will see in one batch (with ``data.node_parts`` a partition's;
        with ``data.neighbors`` at most ``batch_size * (1 + k1 + k1 * k2 + ...)``; the whole graph's
        with ``data.evaluate: full_graph``)."""
        largest = max((graph.num_nodes for name in ("train", "val", "test") for graph in getattr(self.splits, name)),
                      default=0)
        if self.config.evaluate == "full_graph":
            return largest
        # + 1: with several processes, one may get one item more in the epoch's last batch
        if self.config.node_parts:
            return min(largest, self._part_size(largest) + 1)
        if self.config.neighbors is not None and all(k >= 0 for k in self.config.neighbors):
            reach, frontier = 1, 1
            for fanout in self.config.neighbors:
                frontier *= fanout
                reach += frontier
            return min(largest, (self.config.batch_size + 1) * reach)
        return largest

    def validate(self, names: Sequence[str] = ("train", "val", "test")) -> None:
        """Check every graph of these splits once (:func:`validate_graphs`: non-finite features or
        targets, edges out of range, feature widths that do not fit the task); the run's pre-flight
        checks all three before anything is written."""
        for name in names:
            if name not in self._validated:
                validate_graphs(getattr(self.splits, name), self.info, name)
                self._validated.add(name)

    def check_batching(self) -> None:
        """Raise :class:`RecipeError` now, before a run starts, if ``data.neighbors`` or
        ``data.node_parts`` is set on a dataset that is not one large graph for node-level prediction."""
        if self.samples_subgraphs:
            for name in ("train", "val", "test"):
                self._one_graph(getattr(self.splits, name))

    def set_precompute(self, transforms: list[BaseTransform]) -> None:
        """Transforms applied once to each graph (positional encodings, ...)."""
        self.precompute = list(transforms)
        self._pair_encodings = [t for t in self.precompute if isinstance(t, PairEncoding)]
        # the ones that are not node or pair encodings (a mixer's structure, e.g. expander edges): on
        # whole graphs once, or on each sampled subgraph (it must match the nodes attended over)
        self._structure = Compose([t for t in self.precompute if not isinstance(t, (NodeEncoding, PairEncoding))])
        self._prepared.clear()
        self._full_batches.clear()
        self._encoded.clear()

    def split(self, name: str) -> Sequence[Data]:
        """The ``train`` / ``val`` / ``test`` graphs with precompute transforms applied (memoised).

        Every graph is first checked (:func:`validate_graphs`: non-finite features or targets,
        edges out of range, feature widths that do not fit the task). Node encodings (positional
        encoders) go through the batched precompute and the on-disk cache; any other transform (a
        mixer's structure) is applied graph by graph, or to each sampled subgraph.
        """
        if name not in self._prepared:
            graphs = getattr(self.splits, name)
            self.validate((name,))
            if self.precompute:
                # shallow copies: encodings are attached as new attributes while the tensors stay shared
                # with the dataset (deep clones held one large graph once per split)
                graphs = [copy.copy(graph) for graph in graphs]
                encodings = [t for t in self.precompute if isinstance(t, NodeEncoding)]
                if encodings:
                    self._encode(name, graphs, encodings, compute_node_encodings,
                                 lambda graphs, encoded: attach_node_encodings(graphs, encoded))
                if self._pair_encodings and (not self.pairs_per_batch or self._trains_full_batch(graphs)):
                    pairs = self._pair_encodings
                    self._encode(name, graphs, pairs, compute_pair_encodings,
                                 lambda graphs, encoded: attach_pair_encodings(graphs, pairs, encoded))
                if not self.samples_subgraphs:
                    graphs = [self._structure(graph) for graph in graphs]
            self._prepared[name] = graphs
        return self._prepared[name]

    @property
    def samples_subgraphs(self) -> bool:
        """Whether batches are subgraphs of one large graph (``data.neighbors`` or ``data.node_parts``)."""
        return self.config.neighbors is not None or self.config.node_parts is not None

    def encoding_cache(self) -> Optional[EncodingCache]:
        """``encodings/`` in the dataset's folder (``<data root>/<dataset name>`` for generated
        datasets), or None when ``data.cache`` is off."""
        if not self.config.cache:
            return None
        directory = self.splits.directory or data_root(self.config.root) / self.config.name
        return EncodingCache(directory / "encodings", {"name": self.config.name, "options": self.config.options})

    @property
    def pairs_per_batch(self) -> bool:
        """Whether pair encodings are computed for each mini-batch (``data.pair_storage: per_batch``)."""
        return self.config.pair_storage == "per_batch"

    def _encode(self, split: str, graphs: list[Data], encodings: Sequence[BaseTransform],
                compute: Callable[..., dict[str, torch.Tensor]],
                attach: Callable[[Sequence[Data], dict[str, torch.Tensor]], None]) -> None:
        """Node or pair encodings (``compute`` / ``attach``) of the graphs: from memory, the cache, or computed."""
        # the splits of one large graph share its structure: encode it once, not once per split
        edge_sets = list(dict.fromkeys(["edge_index"] + [encoding.edges for encoding in encodings]))
        structure = (repr(encodings),) + tuple((graph.num_nodes,) + tuple(id(graph[edges]) for edges in edge_sets)
                                               for graph in graphs)
        if structure in self._encoded:
            attach(graphs, self._encoded[structure])
            return
        cache = self.encoding_cache()
        path = cache.path(split, graphs, encodings) if cache else None
        encoded = cache.load(path, graphs) if cache else None
        if encoded is None:
            started = time.perf_counter()
            encoded = compute(graphs, encodings, workers=self.config.precompute_workers)
            log.info("%s: computed %s for %d graphs in %.1f s", split, encodings, len(graphs),
                     time.perf_counter() - started)
            if cache:
                cache.store(path, graphs, encoded)
        else:
            log.info("%s: loaded %s from %s", split, encodings, path)
        self._encoded[structure] = encoded
        attach(graphs, encoded)

    def _loader(self, graphs: Sequence[Data], order: Order) -> torch.utils.data.DataLoader:
        """Graph mini-batches; or, on one large graph, sampled neighbourhoods of ``data.batch_size``
        target nodes (``data.neighbors``) or random node partitions (``data.node_parts``). Every
        loader splits its batches across processes with :class:`GlobalBatchSampler` (each graph,
        target node or partition node exactly once per epoch). Graph mini-batches carry their mixers'
        block plan (:class:`SizeBlockCollater`), made where they are collated; batches bound for a
        CUDA device come in pinned memory, so they move while the previous step computes."""
        workers = self.config.num_workers
        # the loader's own generator: creating its iterator must not consume the global RNG dropout uses
        common = dict(num_workers=workers, persistent_workers=workers > 0, pin_memory=self._on_cuda(),
                      generator=torch.Generator().manual_seed(self.seed))
        if not self.samples_subgraphs:
            if self._trains_full_batch(graphs):
                return one_batch_loader(self._full_batches.batch(graphs[0]))
            collate = Collater(graphs)
            if self._pair_encodings:
                collate = PairBatchCollater(collate, self._pair_encodings if self.pairs_per_batch else ())
            return torch.utils.data.DataLoader(graphs, collate_fn=SizeBlockCollater(collate),
                                               batch_sampler=self._batches(len(graphs), self.config.batch_size, order),
                                               **common)
        graph = self._one_graph(graphs)
        if order != "per_epoch" and self.config.evaluate == "full_graph":
            return self._whole_graph(graph)
        to_batch = SampledGraph(self._structure if self.precompute else None)
        if self.config.node_parts is not None:
            return torch.utils.data.DataLoader(range(graph.num_nodes), collate_fn=PartitionCollate(graph, to_batch),
                                               batch_sampler=self._batches(graph.num_nodes, self._part_size(graph.num_nodes),
                                                                           order), **common)
        targets = graph.target_mask.nonzero().view(-1) if "target_mask" in graph else torch.arange(graph.num_nodes)
        return NodeLoader(graph, self._neighbor_sampler(graph), input_nodes=targets, transform=to_batch,
                          batch_sampler=self._batches(targets.numel(), self.config.batch_size, order), **common)

    def _neighbor_sampler(self, graph: Data) -> UniformNeighborSampler:
        """One sampler per edge set: the splits of one large graph share its edges, and a sampler's
        index (edges sorted by destination) costs two integers per edge."""
        key = id(graph.edge_index)  # kept with its sampler below, so the id cannot be reused
        if key not in self._neighbor_samplers:
            sampler = UniformNeighborSampler(graph, self.config.neighbors, seed=self.seed)
            self._neighbor_samplers[key] = (graph.edge_index, sampler)
        return self._neighbor_samplers[key][1]

    def _one_graph(self, graphs: Sequence[Data]) -> Data:
        """The split's one large graph; a clear error for a dataset of many graphs or a graph-level task."""
        option = "neighbors" if self.config.neighbors is not None else "node_parts"
        if len(graphs) != 1 or self.info.level != "node":
            raise RecipeError(f"data.{option} batches one large graph for node-level prediction, but "
                              f"{self.config.name!r} has {len(graphs)} {self.info.level}-level graphs per split; remove "
                              f"data.{option} (batches of whole graphs: data.batch_size).")
        return graphs[0]

    def _trains_full_batch(self, graphs: Sequence[Data]) -> bool:
        """One graph for node-level prediction, in one process: every step is the whole graph."""
        return len(graphs) == 1 and self.info.level == "node" and self._ranks()[0] == 1

    def _part_size(self, num_nodes: int) -> int:
        return -(-num_nodes // self.config.node_parts)

    def _whole_graph(self, graph: Data) -> DataLoader:
        """The one graph as a single batch (``data.evaluate: full_graph``). Every process computes the
        whole graph but scores only every ``W``-th target node (its share), so metrics gathered
        across processes count each node once."""
        graph = copy.copy(graph)  # the split's graph stays as it is
        if self.precompute:
            graph = self._structure(graph)
        world, rank = self._ranks()
        targets = graph.target_mask if "target_mask" in graph else torch.ones(graph.num_nodes, dtype=torch.bool)
        graph.target_mask = targets & (torch.arange(graph.num_nodes) % world == rank)
        return DataLoader([graph], batch_size=1)

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
        not the run was resumed, and drawing it does not touch the global RNG that dropout uses."""
        return self._loader(self.split("train"), "per_epoch")

    def val_dataloader(self) -> torch.utils.data.DataLoader:
        """Validation batches in fixed order (node partitions: one fixed random draw, so scores compare)."""
        return self._loader(self.split("val"), self._evaluation_order)

    def test_dataloader(self) -> torch.utils.data.DataLoader:
        """Test batches in fixed order (node partitions: one fixed random draw)."""
        return self._loader(self.split("test"), self._evaluation_order)

    def predict_dataloader(self) -> torch.utils.data.DataLoader:
        """The test split's batches in order (predictions for new graphs give them as the test split)."""
        return self.test_dataloader()

    @property
    def _evaluation_order(self) -> Order:
        return "fixed" if self.config.node_parts is not None else "sequential"
