"""Full-graph inference, layer by layer with local blocks in chunks of target nodes, equals the
ordinary forward pass; evaluation of a sampled-training run on the whole graph scores every node."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torch_geometric.data import Batch

from graphformers.data.datamodule import GraphDataModule
from graphformers.encoders.precompute import NodeEncoding
from graphformers.models.base import GraphModel
from graphformers.models.gps import GPSModel
from graphformers.models.parts import mixer_companions
from graphformers.recipe import ModelConfig, PartSpec, RecipeError, load_recipe
from graphformers.registry import MIXERS, MODELS, register_model
from graphformers.training.module import GraphTask
from graphformers.training.runner import run
from tests.conftest import random_graph, task_info

QUICKSTART = Path(__file__).resolve().parent.parent / "recipes" / "quickstart.yaml"
LOCAL_BLOCKS = [PartSpec("gine"), PartSpec("gat"), PartSpec("gatedgcn"), PartSpec("gcn"), PartSpec("polynormer"),
                PartSpec("polynormer", {"attention": True, "heads": 2})]


def _graph_for(model: GPSModel, num_nodes: int = 300) -> Batch:
    graph = random_graph(num_nodes, edge_prob=0.03, seed=4)
    for transform in model.precompute_transforms():
        if not isinstance(transform, NodeEncoding):
            graph = transform(graph)
    return Batch.from_data_list([graph])


@pytest.mark.parametrize("mixer", [None, *MIXERS.names()])
@pytest.mark.parametrize("local", LOCAL_BLOCKS, ids=lambda spec: f"{spec.name}{'-attention' if spec.options else ''}")
def test_chunked_forward_equals_the_whole_graph_forward(local, mixer):
    torch.manual_seed(0)
    config = ModelConfig(hidden=32, layers=2, heads=4, local=local, mixer=PartSpec(mixer or "none"),
                         **(mixer_companions(mixer) if mixer else {}))
    model = GPSModel(config, task_info("node")).eval()
    data = _graph_for(model)
    with torch.no_grad():
        whole = model(data)
        for chunk in (1, 37, 300):
            torch.testing.assert_close(model(data, chunk=chunk), whole, atol=1e-5, rtol=1e-4)


def test_incoming_only_blocks_really_run_in_chunks(monkeypatch):
    """A GINE block sees only ``chunk`` target nodes and their in-neighbours per call, never all 300."""
    model = GPSModel(ModelConfig(hidden=32, layers=1, heads=4, local=PartSpec("gine"), mixer=PartSpec("none")),
                     task_info("node")).eval()
    data = _graph_for(model)
    seen = []
    block = model.layers[0].local
    original = type(block).forward
    monkeypatch.setattr(type(block), "forward", lambda self, x,
                        *rest: seen.append(x.size(0)) or original(self, x, *rest))
    with torch.no_grad():
        model(data, chunk=10)
    most_incoming = int(torch.bincount(data.edge_index[1]).max())
    assert len(seen) == 30 and max(seen) <= 10 * (1 + most_incoming) < data.num_nodes


@pytest.mark.parametrize("evaluate", ["full_graph", "batches"])
def test_sampled_training_evaluated_on_the_whole_graph_scores_every_target_node(tmp_path, evaluate):
    """The test metric equals the accuracy of the whole-graph forward pass over every test node;
    evaluating on sampled batches instead (the default) gives a different number (the model is
    briefly trained, so the neighbourhoods it sees change its answers)."""
    recipe = load_recipe(QUICKSTART, ["model.mixer=polynormer", "model.encoders=[]", "data.name=relay-large",
                                      "data.options={num_nodes: 4000}", "data.neighbors=[3, 3]", "data.batch_size=128",
                                      f"data.evaluate={evaluate}", "train.max_epochs=1", "train.lr=1e-5",
                                      f"train.out_dir={tmp_path}", "train.progress_bar=false"])
    result = run(recipe)
    task = GraphTask.load_from_checkpoint(result.best_checkpoint, weights_only=True).eval()
    datamodule = GraphDataModule(recipe.data, seed=recipe.train.seed)
    graph = Batch.from_data_list([datamodule.split("test")[0]])
    with torch.no_grad():
        predicted = task.model(graph).argmax(dim=-1)
    mask = graph.target_mask
    expected = (predicted[mask] == graph.y[mask]).float().mean().item()
    if evaluate == "full_graph":
        assert result.test_value == pytest.approx(expected, abs=1e-6)
    else:
        assert abs(result.test_value - expected) > 1e-3


@pytest.mark.parametrize("local", ["gcn", "polynormer"])
def test_degree_normalised_blocks_get_a_sparse_adjacency_on_the_whole_graph(monkeypatch, local):
    model = GPSModel(ModelConfig(hidden=32, layers=1, heads=4, local=PartSpec(local), mixer=PartSpec("none")),
                     task_info("node")).eval()
    data = _graph_for(model)
    layouts = []
    block = model.layers[0].local
    original = type(block).forward
    monkeypatch.setattr(type(block), "forward",
                        lambda self, x, edges, *rest: layouts.append(edges.layout) or original(self, x, edges, *rest))
    with torch.no_grad():
        model(data, chunk=10)
    assert layouts == [torch.sparse_csr]


def test_a_model_without_layerwise_inference_is_refused_before_training(tmp_path, isolated):
    isolated(MODELS)

    @register_model("whole-graph-only")
    class WholeGraphOnly(GraphModel):
        def __init__(self, config, info) -> None:
            super().__init__(config, info)
            self.linear = nn.Linear(info.node_in, info.num_outputs)

        def forward(self, data: Batch, chunk=None) -> torch.Tensor:
            return self.linear(data.x)

    overrides = ["model.name=whole-graph-only", "model.encoders=[]", "data.name=relay-large",
                 "data.options={num_nodes: 1000}", "data.neighbors=[2]", f"train.out_dir={tmp_path / 'runs'}"]
    run(load_recipe(QUICKSTART, overrides + ["train.max_epochs=1", "train.progress_bar=false"]))  # trains on batches
    with pytest.raises(RecipeError, match="needs a model with chunked \\(layer-by-layer\\) inference"):
        load_recipe(QUICKSTART, overrides + ["data.evaluate=full_graph", f"train.out_dir={tmp_path / 'other'}"])
    assert not (tmp_path / "other").exists()
