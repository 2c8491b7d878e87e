"""The contracts of the two kinds of input encoder, registered separately and read by their own
recipe keys: feature encoders (``model.node_encoder`` / ``model.edge_encoder``) and positional
encoders (``model.encoders``)."""
from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.transforms import BaseTransform


class FeatureEncoder(nn.Module):
    """Base class of feature encoders: embeds raw node or edge features (floats, category ids, OGB
    atom/bond categories, ...) into ``out_dim`` channels, ``forward(x [N, in_dim]) -> [N, out_dim]``
    (``[E, ...]`` for edge features). A dataset's :class:`~graphformers.task.TaskInfo` names the
    encoder that fits its raw features and their width; the model supplies both arguments.

    Args:
        in_dim (int): raw feature width, or the number of categories for category encoders.
        out_dim (int): output channels.
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError


class PositionalEncoder(nn.Module):
    """Base class of positional / structural encoders: :meth:`precompute` returns the transform that
    stores the encoding's input on every graph once, before training (a
    :class:`~graphformers.encoders.precompute.NodeEncoding` is batched, cached and sized by the
    pre-flight memory check; any other PyG transform is applied graph by graph), and
    ``forward(data) -> [N, dim]`` embeds it per batch; the model concatenates the ``dim`` channels
    to the node features. Its recipe options are its constructor's (``dim`` and its own).

    Args:
        dim (int): output channels.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def precompute(self) -> BaseTransform:
        """The transform that stores this encoding's input on each graph."""
        raise NotImplementedError

    def forward(self, data: Batch) -> Tensor:
        raise NotImplementedError
