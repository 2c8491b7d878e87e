"""The OGB molecule datasets rebuilt from MoleculeNet's CSVs (:mod:`~graphformers.data.ogb_build`), and
where each comes from; no heavy import, so that the command line lists them at once."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MoleculeNetSource:
    """Where an OGB molecule dataset comes from: MoleculeNet's CSV, its SMILES column and its targets.

    Args:
        csv (str): the CSV's file name (as MoleculeNet and PyG's ``MoleculeNet`` name it).
        smiles (str): its SMILES column.
        targets (tuple of str): its target columns, in OGB's order.
        drops_unparsable (bool, optional): leave out the molecules RDKit cannot parse (BBBP, as
            pretrain-gnns does); otherwise every row is kept (default: :obj:`False`).
    """

    csv: str
    smiles: str
    targets: tuple[str, ...]
    drops_unparsable: bool = False


TOX21_TARGETS = ("NR-AR", "NR-AR-LBD", "NR-AhR", "NR-Aromatase", "NR-ER", "NR-ER-LBD", "NR-PPAR-gamma", "SR-ARE",
                 "SR-ATAD5", "SR-HSE", "SR-MMP", "SR-p53")
SOURCES = {
    "ogbg-molhiv": MoleculeNetSource("HIV.csv", "smiles", ("HIV_active",)),
    "ogbg-molbbbp": MoleculeNetSource("BBBP.csv", "smiles", ("p_np",), drops_unparsable=True),
    "ogbg-molbace": MoleculeNetSource("bace.csv", "mol", ("Class",)),
    "ogbg-moltox21": MoleculeNetSource("tox21.csv", "smiles", TOX21_TARGETS),
    "ogbg-molesol": MoleculeNetSource("delaney-processed.csv", "smiles",
                                      ("measured log solubility in mols per litre",)),
}
"""The OGB molecule datasets this builds, each from its MoleculeNet CSV."""
