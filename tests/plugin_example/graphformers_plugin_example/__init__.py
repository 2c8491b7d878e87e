"""An example graphformers plugin: the ``gated-mean`` mixer, the ``inout-degree`` positional encoding, the
``sum-gate`` local block and the ``star-or-path`` dataset, one of each kind a plugin can add.

Installed, its entry point (group ``graphformers.plugins``) makes every name usable in any recipe.
Each part derives from its kind's base class (``graphformers.<kind>.base``), whose docstring is the
contract; the registries refuse parts that do not.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.utils import scatter

from graphformers import register_dataset, register_local, register_mixer, register_positional_encoder
from graphformers.data import SplitDataset, TaskInfo
from graphformers.encoders import PositionalEncoder
from graphformers.encoders.precompute import NodeEncoding
from graphformers.local import LocalBlock
from graphformers.mixers import GlobalMixer


@register_mixer("gated-mean")
class GatedMean(GlobalMixer):
    """Each node takes a gated projection of its graph's mean state: O(N) global mixing.

    ``forward(x [N, hidden], batch [N], data) -> [N, hidden]``.

    Args:
        hidden (int): feature width.
        heads (int): unused (the mean has no heads); must divide ``hidden``.
        dropout (float): unused.
    """

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__(hidden, heads, dropout)
        self.value, self.gate = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)

    def forward(self, x: Tensor, batch: Tensor, data: Batch) -> Tensor:
        mean = scatter(self.value(x), batch, dim=0, dim_size=data.num_graphs, reduce="mean")
        return torch.sigmoid(self.gate(x)) * mean[batch]


class Degrees(NodeEncoding):
    """Stores ``data.degree_pe [N, 2]``: log(1 + in-degree), log(1 + out-degree)."""

    channels_per_node = 2

    def dense(self, directed: Tensor) -> dict[str, Tensor]:
        degrees = torch.stack([directed.sum(dim=-2), directed.sum(dim=-1)], dim=-1)
        return {"degree_pe": torch.log1p(degrees).float()}

    def sparse(self, edge_index: Tensor, num_nodes: int) -> dict[str, Tensor]:
        ones = torch.ones(edge_index.size(1))
        degrees = torch.stack([scatter(ones, edge_index[1], dim_size=num_nodes, reduce="sum"),
                               scatter(ones, edge_index[0], dim_size=num_nodes, reduce="sum")], dim=-1)
        return {"degree_pe": torch.log1p(degrees).float()}

    def __repr__(self) -> str:
        return "Degrees()"


@register_positional_encoder("inout-degree")
class DegreePE(PositionalEncoder):
    """Log in/out-degrees of each node, linearly embedded to ``dim`` channels.

    ``forward(data) -> [N, dim]`` from ``data.degree_pe [N, 2]``.

    Args:
        dim (int, optional): output channels. (default: :obj:`8`)
    """

    def __init__(self, dim: int = 8) -> None:
        super().__init__(dim)
        self.linear = nn.Linear(2, dim)

    def precompute(self) -> Degrees:
        return Degrees()

    def forward(self, data: Batch) -> Tensor:
        return self.linear(data.degree_pe)


@register_local("sum-gate")
class SumGate(LocalBlock):
    """Gated sum of neighbour states: ``x_i' = sigmoid(W_g x_i) * sum_{j -> i} W x_j``; ignores edge features.

    ``forward(x [N, hidden], edge_index [2, E], edge_attr [E, hidden]) -> [N, hidden]``; a node's
    output reads only its incoming edges, so it declares ``incoming_only``.

    Args:
        hidden (int): feature width.
    """

    incoming_only = True

    def __init__(self, hidden: int) -> None:
        super().__init__(hidden)
        self.message, self.gate = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        summed = scatter(self.message(x)[edge_index[0]], edge_index[1], dim=0, dim_size=x.size(0), reduce="sum")
        return torch.sigmoid(self.gate(x)) * summed


STAR_OR_PATH = TaskInfo(level="graph", task="binary", num_outputs=1, metric="auroc",
                        node_encoder="linear", node_in=1)


def _star_or_path(nodes: int, star: bool) -> Data:
    others = torch.arange(1, nodes)
    sources = torch.zeros_like(others) if star else others - 1
    edge_index = torch.cat([torch.stack([sources, others]), torch.stack([others, sources])], dim=1)
    return Data(x=torch.ones(nodes, 1), edge_index=edge_index, y=torch.tensor([[float(star)]]), num_nodes=nodes)


@register_dataset("star-or-path", STAR_OR_PATH)
def star_or_path(root: str, num_graphs: int = 300, seed: int = 0) -> SplitDataset:
    """Graph-level binary task: is the graph a star or a path (of 5 to 20 nodes)? Generated, no files.

    Args:
        root (str): unused (generated in memory).
        num_graphs (int, optional): graphs in all, split 60/20/20. (default: :obj:`300`)
        seed (int, optional): generator seed. (default: :obj:`0`)
    """
    generator = torch.Generator().manual_seed(seed)
    sizes = torch.randint(5, 21, (num_graphs,), generator=generator).tolist()
    stars = torch.randint(0, 2, (num_graphs,), generator=generator).bool().tolist()
    graphs = [_star_or_path(n, star) for n, star in zip(sizes, stars, strict=True)]
    train, val = int(0.6 * num_graphs), int(0.8 * num_graphs)
    return SplitDataset(graphs[:train], graphs[train:val], graphs[val:], STAR_OR_PATH)
