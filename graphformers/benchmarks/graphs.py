"""The graphs the benchmark suites run on, generated from a seed so every run measures the same ones.

* :func:`synthetic_graph`: one random graph of any size with ~5 edges per node and random node
  features (the ``scaling`` suite's graphs, and the ``encoders`` suite's single large graphs).
* :func:`molecule_like_graphs`: many small sparse graphs shaped like molecules (the ``encoders``
  suite's ``molecules`` set).
* :func:`generated_graphs`: those molecule-like graphs with OGB atom and bond features and
  labels (the ``model`` suite's ``generated`` batch set, always available without data files).
"""
from __future__ import annotations

import numpy as np
import torch
from ogb.utils.features import get_atom_feature_dims, get_bond_feature_dims
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

EDGES_PER_NODE = 5
"""Directed edges per node that :func:`synthetic_graph` draws (before merging duplicates)."""
SYNTHETIC_CHANNELS = 64
"""Default width of :func:`synthetic_graph`'s node features."""
GENERATED_LABELS = 10
"""Binary labels per graph of :func:`generated_graphs` (a 10-task multilabel problem, as peptides-func)."""


def synthetic_graph(num_nodes: int, seed: int = 0, channels: int = SYNTHETIC_CHANNELS) -> Data:
    r"""A uniformly random undirected graph of ``num_nodes`` nodes with about
    :obj:`EDGES_PER_NODE * num_nodes` directed edges, and standard normal node features.

    Its edge count grows linearly with its size, as in the sparse graphs a graph transformer's
    linear mixers are meant for, so a series of these measures how a layer's time and memory grow
    with :math:`N` alone. It draws :obj:`EDGES_PER_NODE * num_nodes // 2` node pairs uniformly
    (self loops and repeats included) and adds their reverses; repeated pairs are merged, so the
    edge count is at most, and for large graphs close to, :obj:`EDGES_PER_NODE * num_nodes`.

    Args:
        num_nodes (int): The number of nodes :math:`N`.
        seed (int, optional): Seed of the graph's own :class:`torch.Generator`; the global RNG
            is not used. (default: :obj:`0`)
        channels (int, optional): Width :math:`F` of the node features.
            (default: :obj:`SYNTHETIC_CHANNELS`, 64)

    Returns:
        :class:`~torch_geometric.data.Data` with node features :obj:`x` of shape :obj:`[N, F]`
        (float), :obj:`edge_index` of shape :obj:`[2, E]` (coalesced, both directions of every
        edge, :math:`E \le` :obj:`EDGES_PER_NODE * N`) and :obj:`num_nodes`.
    """
    generator = torch.Generator().manual_seed(seed)
    pairs = torch.randint(0, num_nodes, (2, EDGES_PER_NODE * num_nodes // 2), generator=generator)
    return Data(x=torch.randn(num_nodes, channels, generator=generator),
                edge_index=to_undirected(pairs, num_nodes=num_nodes), num_nodes=num_nodes)


def molecule_like_graphs(count: int, seed: int = 0) -> list[Data]:
    r"""``count`` small undirected graphs shaped like molecules: random trees of 10 to 40 nodes
    (mean ~25, like ZINC) with up to three ring closures, and no features.

    They stand in for a molecular dataset when timing per-graph work on many small graphs (the
    positional-encoding precompute), without the dataset's files. Node :math:`i \ge 1` hangs from
    one of the (up to) three nodes before it, which keeps the trees chain-like and low-degree, as
    molecules' backbones are; each ring closure joins a node :math:`j \ge 5` to node
    :math:`j - 5`, closing a small ring through the tree (six nodes when each node between them
    hangs from the one before it). Every graph has more than 8 nodes.

    Args:
        count (int): The number of graphs.
        seed (int, optional): Seed of the :func:`numpy.random.default_rng` that draws all the
            graphs in turn; the global RNGs are not used. (default: :obj:`0`)

    Returns:
        A list of ``count`` :class:`~torch_geometric.data.Data`, each with :obj:`edge_index` of
        shape :obj:`[2, E]` (coalesced, both directions of every edge,
        :math:`E = 2(N - 1 + \text{distinct closures})`) and :obj:`num_nodes` :math:`N`.
    """
    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(count):
        n = int(rng.integers(10, 41))
        parents = [int(rng.integers(max(0, i - 3), i)) for i in range(1, n)]
        closures = rng.integers(5, n, size=int(rng.integers(0, 4)))
        source = torch.tensor(parents + [int(i) - 5 for i in closures])
        target = torch.tensor(list(range(1, n)) + [int(i) for i in closures])
        graphs.append(Data(edge_index=to_undirected(torch.stack([source, target]), num_nodes=n), num_nodes=n))
    return graphs


def generated_graphs(count: int, seed: int = 0) -> list[Data]:
    r"""The graphs of :func:`molecule_like_graphs` with random valid OGB atom and bond features and
    :obj:`GENERATED_LABELS` random binary labels each.

    Every feature column is drawn uniformly below its vocabulary size
    (:func:`ogb.utils.features.get_atom_feature_dims` / :func:`get_bond_feature_dims`), so OGB's
    atom and bond encoders apply as on real molecules (``smiles2graph``'s 9 atom and 3 bond
    features) and a model can be trained on them when no dataset is on disk.

    Args:
        count (int): The number of graphs.
        seed (int, optional): Seed of :func:`molecule_like_graphs` and, separately, of the
            :func:`numpy.random.default_rng` that draws features and labels.
            (default: :obj:`0`)

    Returns:
        A list of ``count`` :class:`~torch_geometric.data.Data`, each with integer node features
        :obj:`x` of shape :obj:`[N, 9]`, :obj:`edge_index` of shape :obj:`[2, E]`, integer edge
        features :obj:`edge_attr` of shape :obj:`[E, 3]`, float labels :obj:`y` of shape
        :obj:`[1, GENERATED_LABELS]` (0 or 1) and :obj:`num_nodes` :math:`N`.
    """
    rng = np.random.default_rng(seed)
    graphs = []
    for graph in molecule_like_graphs(count, seed):
        n, e = graph.num_nodes, graph.edge_index.size(1)
        x = np.stack([rng.integers(0, dim, n) for dim in get_atom_feature_dims()], axis=1)
        edge_attr = np.stack([rng.integers(0, dim, e) for dim in get_bond_feature_dims()], axis=1)
        graphs.append(Data(x=torch.from_numpy(x), edge_index=graph.edge_index, edge_attr=torch.from_numpy(edge_attr),
                           y=torch.from_numpy(rng.integers(0, 2, (1, GENERATED_LABELS))).float(), num_nodes=n))
    return graphs
