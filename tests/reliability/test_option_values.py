"""Part options are built from the values the recipe check converted: a float written ``5e-1``
(which YAML 1.1 reads as a string) reaches every kind of part as the float 0.5."""
from __future__ import annotations

from pathlib import Path

import torch
from torch_geometric.data import Batch, Data

from graphformers.recipe import load_recipe
from graphformers.task import TaskInfo
from graphformers.training.module import GraphTask

REPO = Path(__file__).resolve().parents[2]
INFO = TaskInfo(level="graph", task="regression", num_outputs=1, metric="mae", node_encoder="linear", node_in=4,
                edge_encoder="linear", edge_in=2)


def test_floats_written_as_dotless_exponents_reach_every_part_as_floats():
    recipe = load_recipe(REPO / "recipes" / "quickstart.yaml", [
        "model.local={name: gat, dropout: 5e-1}",
        "model.mixer={name: performer, features: 8}",
        "model.encoders=[]",
        "data.name=relay-large",
        "data.options={num_nodes: 200, val_fraction: 25e-2}",
    ])
    assert recipe.model.local.options == {"dropout": 0.5} and type(recipe.model.local.options["dropout"]) is float
    assert recipe.data.options["val_fraction"] == 0.25 and type(recipe.data.options["val_fraction"]) is float
    assert recipe.to_dict()["model"]["local"]["dropout"] == 0.5  # what checkpoints store, too
    task = GraphTask(recipe.to_dict(), INFO.__dict__)
    dropouts = [module.dropout for module in task.model.modules() if type(module).__name__ == "GATConv"]
    assert dropouts and all(value == 0.5 for value in dropouts)
    torch.manual_seed(0)
    graphs = [Data(x=torch.randn(6, 4), edge_index=torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]]),
                   edge_attr=torch.randn(5, 2), y=torch.randn(1, 1)) for _ in range(3)]
    task.train()
    assert torch.isfinite(task(Batch.from_data_list(graphs))).all()
