"""Node orderings: the order in which sequence mixers read each graph's nodes; the contract is
:class:`graphformers.orderings.base.NodeOrdering`."""
from graphformers.orderings.base import NodeOrdering, order_within_graphs
from graphformers.orderings.fiedler import FiedlerOrdering
from graphformers.orderings.structural import BreadthFirstOrdering, DegreeOrdering, RandomOrdering

__all__ = ["NodeOrdering", "order_within_graphs", "DegreeOrdering", "RandomOrdering", "BreadthFirstOrdering",
           "FiedlerOrdering"]
