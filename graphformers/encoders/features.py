"""Feature encoders for raw node/edge inputs: dense floats, categories, OGB molecules."""
from __future__ import annotations

from ogb.graphproppred.mol_encoder import AtomEncoder, BondEncoder
from torch import Tensor, nn

from graphformers.encoders.base import FeatureEncoder
from graphformers.registry import register_encoder


@register_encoder("linear")
class LinearEncoder(FeatureEncoder):
    """Linear projection of float features."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        self.linear = nn.Linear(in_dim, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x.float())


@register_encoder("embedding")
class CategoryEncoder(FeatureEncoder):
    """Embedding of one integer category per row (``in_dim`` = number of categories)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        self.embedding = nn.Embedding(in_dim, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.embedding(x.view(-1).long())


@register_encoder("atom")
class OGBAtomEncoder(FeatureEncoder):
    """OGB's AtomEncoder: sum of embeddings of the 9 categorical atom features of ``smiles2graph``."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        self.encoder = AtomEncoder(out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.encoder(x.long())


@register_encoder("bond")
class OGBBondEncoder(FeatureEncoder):
    """OGB's BondEncoder: sum of embeddings of the 3 categorical bond features of ``smiles2graph``."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        self.encoder = BondEncoder(out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.encoder(x.long())



@register_encoder("ast")
class ASTNodeEncoder(FeatureEncoder):
    """OGB's ASTNodeEncoder for ogbg-code2: embeddings of node type (98), attribute (10,030) and
    depth (capped at 20), summed; input ``x [N, 3]`` as the ogbg-code2 loader stores it."""

    NODE_TYPES, ATTRIBUTES, MAX_DEPTH = 98, 10030, 20

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        self.types = nn.Embedding(self.NODE_TYPES, out_dim)
        self.attributes = nn.Embedding(self.ATTRIBUTES, out_dim)
        self.depths = nn.Embedding(self.MAX_DEPTH + 1, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        x = x.long()
        return self.types(x[:, 0]) + self.attributes(x[:, 1]) + self.depths(x[:, 2].clamp(max=self.MAX_DEPTH))


@register_encoder("ast_edge")
class ASTEdgeEncoder(FeatureEncoder):
    """GraphGPS's ASTEdgeEncoder: embeddings of edge kind (AST / next token) and direction, summed."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        self.kinds = nn.Embedding(2, out_dim)
        self.directions = nn.Embedding(2, out_dim)

    def forward(self, edge_attr: Tensor) -> Tensor:
        edge_attr = edge_attr.long()
        return self.kinds(edge_attr[:, 0]) + self.directions(edge_attr[:, 1])
