"""Mini-batches of one large graph: sampled neighbourhoods of target nodes, or random node partitions.

Both give the model a one-graph ``Batch`` whose ``target_mask`` marks the nodes the loss and the
metric score, so the global mixers attend within the sampled subgraph (as Polynormer and
Exphormer train on large graphs) and nothing else in the model changes.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.sampler import BaseSampler, NodeSamplerInput, SamplerOutput

# what PyG's NodeLoader attaches to a sampled subgraph (the model reads none of it), and the
# large graph's target_mask, replaced by the subgraph's own
SAMPLER_KEYS = ("n_id", "e_id", "input_id", "seed_time", "batch", "batch_size", "num_sampled_nodes",
                "num_sampled_edges", "target_mask")


class UniformNeighborSampler(BaseSampler):
    """Samples, hop by hop, up to ``num_neighbors[h]`` incoming edges of every node reached at hop
    ``h`` (uniformly, without replacement; all of them for nodes with fewer), as PyG's
    ``NeighborSampler`` does with its defaults (directed, no replacement).

    Written here because PyG's sampler needs ``pyg-lib`` or ``torch-sparse``, which have no PyPI
    wheels (torch-sparse compiles from source for many minutes). Pure torch, vectorised per hop
    (cost linear in the edges of the frontier). Draws come from a generator seeded by ``seed``
    and the seed nodes themselves, so a batch samples the same neighbourhood in any worker,
    process or resumed run: evaluation is repeatable and training replays exactly.
    """

    def __init__(self, graph: Data, num_neighbors: Sequence[int], seed: int = 0) -> None:
        num_nodes = graph.num_nodes
        destination = graph.edge_index[1]
        self.edge_order = torch.argsort(destination, stable=True)  # incoming edges of each node, contiguous
        self.sources = graph.edge_index[0, self.edge_order]
        self.rowptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        self.rowptr[1:] = torch.cumsum(torch.bincount(destination, minlength=num_nodes), 0)
        self.num_neighbors = list(num_neighbors)
        self.seed = seed
        self._local = torch.full((num_nodes,), -1, dtype=torch.long)  # global -> local id, reset after each batch

    def sample_from_nodes(self, inputs: NodeSamplerInput) -> SamplerOutput:
        seeds = inputs.node
        generator = torch.Generator().manual_seed(self._draw_seed(seeds))
        nodes, frontier, rows, cols, edges = [seeds], seeds, [], [], []
        sampled_nodes, sampled_edges, count = [seeds.numel()], [], seeds.numel()
        self._local[seeds] = torch.arange(seeds.numel())
        try:
            for fanout in self.num_neighbors:
                positions, owners = self._choose(frontier, fanout, generator)
                sources = self.sources[positions]
                new = torch.unique(sources[self._local[sources] < 0])
                self._local[new] = torch.arange(count, count + new.numel())
                nodes.append(new)
                count += new.numel()
                rows.append(self._local[sources])
                cols.append(self._local[owners])
                edges.append(self.edge_order[positions])
                sampled_nodes.append(new.numel())
                sampled_edges.append(positions.numel())
                frontier = new
        finally:
            node = torch.cat(nodes)
            self._local[node] = -1  # ready for the next batch, even after an error
        empty = torch.empty(0, dtype=torch.long)
        return SamplerOutput(node=node, row=torch.cat(rows) if rows else empty, col=torch.cat(cols) if cols else empty,
                             edge=torch.cat(edges) if edges else empty, num_sampled_nodes=sampled_nodes,
                             num_sampled_edges=sampled_edges, metadata=(inputs.input_id, inputs.time))

    def sample_from_edges(self, index: object, neg_sampling: object = None) -> SamplerOutput:
        """Not offered: link-level tasks batch whole graphs."""
        raise NotImplementedError("UniformNeighborSampler samples around nodes only.")

    def _choose(self, frontier: Tensor, fanout: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Positions (into the destination-sorted edges) of the chosen incoming edges, and the node
        each was chosen for: a random key per candidate edge, the ``fanout`` smallest per node."""
        starts, degrees = self.rowptr[frontier], self.rowptr[frontier + 1] - self.rowptr[frontier]
        owner_index = torch.repeat_interleave(torch.arange(frontier.numel()), degrees)
        owner_starts = torch.cumsum(degrees, 0) - degrees  # where each owner's candidates begin
        offsets = torch.arange(owner_index.numel()) - torch.repeat_interleave(owner_starts, degrees)
        positions = starts[owner_index] + offsets
        if fanout >= 0:
            keys = owner_index.double() + torch.rand(owner_index.numel(), generator=generator, dtype=torch.float64)
            order = torch.argsort(keys)
            rank = offsets  # after sorting by owner then key, the rank within each owner is again 0, 1, ...
            keep = order[rank < fanout]
            positions, owner_index = positions[keep], owner_index[keep]
        return positions, frontier[owner_index]

    def _draw_seed(self, seeds: Tensor) -> int:
        digest = hashlib.blake2b(seeds.numpy().tobytes(), digest_size=8, key=str(self.seed).encode()).digest()
        return int.from_bytes(digest, "little") & (2**63 - 1)


class SampledGraph:
    """Turns a sampled or partitioned subgraph into the one-graph ``Batch`` the model reads:
    ``target_mask`` = the first ``scored`` nodes (the seeds; all of a partition's target nodes),
    loader bookkeeping removed, then ``transforms`` (a mixer's structure, e.g. expander edges,
    which must be built on the subgraph it attends over)."""

    def __init__(self, transforms: Callable[[Data], Data] | None = None) -> None:
        self.transforms = transforms

    def __call__(self, subgraph: Data, target_mask: Tensor | None = None) -> Batch:
        if target_mask is None:
            target_mask = torch.arange(subgraph.num_nodes) < subgraph.batch_size
        graph = Data(**{key: value for key, value in subgraph.items() if key not in SAMPLER_KEYS})
        graph.num_nodes = subgraph.num_nodes
        graph.target_mask = target_mask
        if self.transforms is not None:
            graph = self.transforms(graph)
        return Batch.from_data_list([graph])


class PartitionCollate:
    """Collates a list of node ids into their induced subgraph of ``graph`` (PyG's
    ``RandomNodeLoader`` partitions; ``target_mask`` sliced with the nodes)."""

    def __init__(self, graph: Data, to_batch: SampledGraph) -> None:
        self.graph, self.to_batch = graph, to_batch

    def __call__(self, index: list[int]) -> Batch:
        part = self.graph.subgraph(torch.tensor(index))
        return self.to_batch(part, part.target_mask)
