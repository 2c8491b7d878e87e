"""Feature encoders for raw node/edge inputs: dense floats, categories, OGB molecules."""
from __future__ import annotations

from torch import Tensor, nn

from graphformers.encoders.base import FeatureEncoder
from graphformers.registry import register_feature_encoder


@register_feature_encoder("linear")
class LinearEncoder(FeatureEncoder):
    """Linear projection of float features.

    ``forward(x [N, in_dim]) -> [N, out_dim]`` (rows are nodes or edges; ``x`` is cast to float).

    Args:
        in_dim (int): width of the raw float features.
        out_dim (int): output channels (in the GPS model: ``model.hidden`` less the positional
            encoders' dims for node features, ``model.hidden`` for edge features).
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        self.linear = nn.Linear(in_dim, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x.to(self.linear.weight.dtype))


@register_feature_encoder("embedding")
class CategoryEncoder(FeatureEncoder):
    """Embedding of one integer category per row (``in_dim`` = number of categories).

    ``forward(x [N] or [N, 1]) -> [N, out_dim]`` (rows are nodes or edges; values in
    ``0 .. in_dim - 1``).

    Args:
        in_dim (int): number of categories.
        out_dim (int): output channels (in the GPS model: ``model.hidden`` less the positional
            encoders' dims for node features, ``model.hidden`` for edge features).
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        self.embedding = nn.Embedding(in_dim, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.embedding(x.view(-1).long())


@register_feature_encoder("atom")
class OGBAtomEncoder(FeatureEncoder):
    """OGB's AtomEncoder: sum of embeddings of the 9 categorical atom features of ``smiles2graph``.

    ``forward(x [N, 9]) -> [N, out_dim]`` (integer categories, one column per atom feature).

    Args:
        in_dim (int): raw feature width; unused, OGB fixes the features and their vocabularies.
        out_dim (int): output channels (in the GPS model: ``model.hidden`` less the positional
            encoders' dims for node features, ``model.hidden`` for edge features).
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        from ogb.graphproppred.mol_encoder import AtomEncoder  # here: ogb.graphproppred imports scikit-learn

        self.encoder = AtomEncoder(out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.encoder(x.long())


@register_feature_encoder("bond")
class OGBBondEncoder(FeatureEncoder):
    """OGB's BondEncoder: sum of embeddings of the 3 categorical bond features of ``smiles2graph``.

    ``forward(edge_attr [E, 3]) -> [E, out_dim]`` (integer categories, one column per bond feature).

    Args:
        in_dim (int): raw feature width; unused, OGB fixes the features and their vocabularies.
        out_dim (int): output channels (in the GPS model: ``model.hidden`` less the positional
            encoders' dims for node features, ``model.hidden`` for edge features).
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        from ogb.graphproppred.mol_encoder import BondEncoder  # here: ogb.graphproppred imports scikit-learn

        self.encoder = BondEncoder(out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.encoder(x.long())



@register_feature_encoder("ast")
class ASTNodeEncoder(FeatureEncoder):
    """OGB's ASTNodeEncoder for ogbg-code2: embeddings of node type (98), attribute (10,030) and
    depth (capped at 20), summed; input ``x [N, 3]`` as the ogbg-code2 loader stores it.

    ``forward(x [N, 3]) -> [N, out_dim]``.

    Args:
        in_dim (int): raw feature width; unused, the three columns and their vocabularies are fixed.
        out_dim (int): output channels (in the GPS model: ``model.hidden`` less the positional
            encoders' dims for node features, ``model.hidden`` for edge features).
    """

    NODE_TYPES, ATTRIBUTES, MAX_DEPTH = 98, 10030, 20

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        self.types = nn.Embedding(self.NODE_TYPES, out_dim)
        self.attributes = nn.Embedding(self.ATTRIBUTES, out_dim)
        self.depths = nn.Embedding(self.MAX_DEPTH + 1, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        x = x.long()
        return self.types(x[:, 0]) + self.attributes(x[:, 1]) + self.depths(x[:, 2].clamp(max=self.MAX_DEPTH))


@register_feature_encoder("ast_edge")
class ASTEdgeEncoder(FeatureEncoder):
    """GraphGPS's ASTEdgeEncoder: embeddings of edge kind (AST / next token) and direction, summed.

    ``forward(edge_attr [E, 2]) -> [E, out_dim]`` (column 0 the kind, column 1 the direction,
    each 0 or 1).

    Args:
        in_dim (int): raw feature width; unused, the two columns and their vocabularies are fixed.
        out_dim (int): output channels (in the GPS model: ``model.hidden`` less the positional
            encoders' dims for node features, ``model.hidden`` for edge features).
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        self.kinds = nn.Embedding(2, out_dim)
        self.directions = nn.Embedding(2, out_dim)

    def forward(self, edge_attr: Tensor) -> Tensor:
        edge_attr = edge_attr.long()
        return self.kinds(edge_attr[:, 0]) + self.directions(edge_attr[:, 1])
