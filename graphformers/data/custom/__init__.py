"""Datasets given without code: ``pyg`` (any ``torch_geometric.datasets`` class), ``smiles-csv``,
``graphs-file`` and ``edge-list``, each with a split rule (:mod:`~graphformers.data.custom.splits`)
and its task inferred from the targets (:mod:`~graphformers.data.custom.inference`). The dataset
contract they follow is :class:`graphformers.data.base.DatasetSpec`."""
from graphformers.data.custom import edge_list, graphs_file, pyg_class, smiles_csv  # noqa: F401
