"""The node-feature normalisations a layer may use (``model.norm``)."""
from __future__ import annotations

from torch import nn
from torch_geometric.nn import BatchNorm


def make_norm(kind: str, hidden: int) -> nn.Module:
    """``batch`` -> batch norm over nodes (PyG's, which uses running statistics for a batch of one node
    instead of failing), ``layer`` -> LayerNorm per node, ``none`` -> identity."""
    norms = {"batch": lambda: BatchNorm(hidden, allow_single_element=True), "layer": lambda: nn.LayerNorm(hidden),
             "none": nn.Identity}
    if kind not in norms:
        raise ValueError(f"Unknown norm {kind!r}; choose one of {', '.join(norms)}.")
    return norms[kind]()
