"""A dataset's splits with everything the model precomputes attached: node and pair encodings
(batched, memoised, cached on disk) and a mixer's structure. Plain PyTorch and PyG: no Lightning."""
from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Sequence

import torch
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform, Compose

from graphformers.data.base import SplitDataset
from graphformers.data.encoding_cache import EncodingCache
from graphformers.data.validation import validate_graphs
from graphformers.encoders.precompute import NodeEncoding, attach_node_encodings, compute_node_encodings
from graphformers.pair_encodings.base import PairEncoding
from graphformers.pair_encodings.precompute import attach_pair_encodings, compute_pair_encodings
from graphformers.recipe import DataConfig, RecipeError
from graphformers.resources import data_root
from graphformers.task import TaskInfo

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
PREDICT = "predict"
"""The split of new graphs given for prediction (:class:`EncodedSplits`'s ``predict``)."""


class EncodedSplits:
    """The ``train`` / ``val`` / ``test`` graphs of a dataset (and, for prediction, a ``predict``
    split of new graphs), each checked once and given the model's precompute transforms once.

    Args:
        config (DataConfig): the recipe's ``data`` section (batching mode, cache, precompute workers).
        splits (SplitDataset): the dataset's official splits and task.
        predict (sequence of Data, optional): new graphs to predict for (the ``predict`` split).
    """

    def __init__(self, config: DataConfig, splits: SplitDataset, predict: Sequence[Data] = ()) -> None:
        self.config = config
        self.splits = splits
        self.predict = list(predict)
        self.precompute: list[BaseTransform] = []
        self.pair_encodings: list[PairEncoding] = []
        self.structure = Compose([])
        """The precompute transforms that are neither node nor pair encodings (a mixer's structure,
        e.g. expander edges): applied to whole graphs once, or to each sampled subgraph."""
        self._prepared: dict[str, Sequence[Data]] = {}
        self._validated: set[str] = set()
        self._encoded: dict[tuple, dict[str, torch.Tensor]] = {}

    @property
    def info(self) -> TaskInfo:
        """The dataset's task: level, type, sizes, metric and feature encoders."""
        return self.splits.info

    def graphs(self, name: str) -> Sequence[Data]:
        """The split ``name`` as given (``predict``: the new graphs)."""
        return self.predict if name == PREDICT else getattr(self.splits, name)

    @property
    def samples_subgraphs(self) -> bool:
        """Whether batches are subgraphs of one large graph (``data.neighbors`` or ``data.node_parts``)."""
        return self.config.neighbors is not None or self.config.node_parts is not None

    @property
    def pairs_per_batch(self) -> bool:
        """Whether pair encodings are computed for each mini-batch (``data.pair_storage: per_batch``)."""
        return self.config.pair_storage == "per_batch"

    def part_size(self, num_nodes: int) -> int:
        """Nodes of one partition of a ``num_nodes`` graph (``data.node_parts``)."""
        return -(-num_nodes // self.config.node_parts)

    def largest_graph_nodes(self) -> int:
        """Nodes of the largest graph a model will see in one batch (with ``data.node_parts`` a partition's;
        with ``data.neighbors`` at most ``batch_size * (1 + k1 + k1 * k2 + ...)``; the whole graph's
        with ``data.evaluate: full_graph``)."""
        largest = max((graph.num_nodes for name in SPLITS for graph in self.graphs(name)), default=0)
        if self.config.evaluate == "full_graph":
            return largest
        # + 1: with several processes, one may get one item more in the epoch's last batch
        if self.config.node_parts:
            return min(largest, self.part_size(largest) + 1)
        if self.config.neighbors is not None and all(k >= 0 for k in self.config.neighbors):
            reach, frontier = 1, 1
            for fanout in self.config.neighbors:
                frontier *= fanout
                reach += frontier
            return min(largest, (self.config.batch_size + 1) * reach)
        return largest

    def validate(self, names: Sequence[str] = SPLITS) -> None:
        """Check every graph of these splits once (:func:`validate_graphs`: non-finite features or
        targets, edges out of range, feature widths that do not fit the task); the run's pre-flight
        checks all three before anything is written."""
        for name in names:
            if name not in self._validated:
                validate_graphs(self.graphs(name), self.info, name)
                self._validated.add(name)

    def check_batching(self) -> None:
        """Raise :class:`RecipeError` now, before a run starts, if ``data.neighbors`` or
        ``data.node_parts`` is set on a dataset that is not one large graph for node-level prediction."""
        if self.samples_subgraphs:
            for name in SPLITS:
                self.one_graph(self.graphs(name))

    def one_graph(self, graphs: Sequence[Data]) -> Data:
        """The split's one large graph; a clear error for a dataset of many graphs or a graph-level task."""
        option = "neighbors" if self.config.neighbors is not None else "node_parts"
        if len(graphs) != 1 or self.info.level != "node":
            raise RecipeError(f"data.{option} batches one large graph for node-level prediction, but "
                              f"{self.config.name!r} has {len(graphs)} {self.info.level}-level graphs per split; "
                              f"remove data.{option} (batches of whole graphs: data.batch_size).")
        return graphs[0]

    def is_one_graph(self, graphs: Sequence[Data]) -> bool:
        """Whether ``graphs`` is one graph for node-level prediction (trained full-batch in one process)."""
        return len(graphs) == 1 and self.info.level == "node"

    def set_precompute(self, transforms: list[BaseTransform]) -> None:
        """Transforms applied once to each graph (positional encodings, pair encodings, a mixer's structure)."""
        self.precompute = list(transforms)
        self.pair_encodings = [t for t in self.precompute if isinstance(t, PairEncoding)]
        self.structure = Compose([t for t in self.precompute if not isinstance(t, (NodeEncoding, PairEncoding))])
        self._prepared.clear()
        self._encoded.clear()

    def split(self, name: str, processes: int = 1) -> Sequence[Data]:
        """The split ``name`` with the precompute transforms applied (memoised).

        Every graph is first checked (:meth:`validate`). Node encodings (positional encoders) go
        through the batched precompute and the on-disk cache; pair encodings too, unless they are
        computed per mini-batch (``data.pair_storage: per_batch``, which one graph trained
        full-batch in one process never is); any other transform (a mixer's structure) is applied
        graph by graph, or to each sampled subgraph.

        Args:
            name (str): ``train``, ``val``, ``test`` or ``predict``.
            processes (int, optional): processes the run trains in.
        """
        if name not in self._prepared:
            graphs = self.graphs(name)
            self.validate((name,))
            if self.precompute:
                # shallow copies: encodings are attached as new attributes while the tensors stay shared
                # with the dataset (deep clones held one large graph once per split)
                graphs = [copy.copy(graph) for graph in graphs]
                encodings = [t for t in self.precompute if isinstance(t, NodeEncoding)]
                if encodings:
                    self._encode(name, graphs, encodings, compute_node_encodings,
                                 lambda graphs, encoded: attach_node_encodings(graphs, encoded))
                full_batch = self.is_one_graph(graphs) and processes == 1
                if self.pair_encodings and (not self.pairs_per_batch or full_batch):
                    pairs = self.pair_encodings
                    self._encode(name, graphs, pairs, compute_pair_encodings,
                                 lambda graphs, encoded: attach_pair_encodings(graphs, pairs, encoded))
                if not self.samples_subgraphs:
                    graphs = [self.structure(graph) for graph in graphs]
            self._prepared[name] = graphs
        return self._prepared[name]

    def encoding_cache(self) -> EncodingCache | None:
        """``encodings/`` in the dataset's folder (``<data root>/<dataset name>`` for generated
        datasets), or None when ``data.cache`` is off."""
        if not self.config.cache:
            return None
        directory = self.splits.directory or data_root(self.config.root) / self.config.name
        return EncodingCache(directory / "encodings", {"name": self.config.name, "options": self.config.options})

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
