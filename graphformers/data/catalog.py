"""Every built-in dataset: importing this module registers them all (the dataset registry imports it
on its first lookup)."""
from graphformers.data import (  # noqa: F401
    custom,
    heterophilous,
    ogb_code2,
    ogb_graphs,
    ogb_nodes,
    pcqm_contact,
    peptides,
    planetoid,
    relay,
    superpixels,
    zinc,
)
