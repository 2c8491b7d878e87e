"""GRIT (model ``grit``) and Graphormer's attention bias (``mixer: {name: full, bias: spd}``): each
equals a direct dense implementation of its paper's equations on small batches, is permutation
equivariant, passes nothing between the graphs of a batch, trains, resumes exactly, steps without
host reads, and refuses what it cannot run."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch
from conftest import permute_graph, random_graph, task_info
from helpers.runs import check_resume_is_exact
from host_reads import HostReads
from torch_geometric.data import Batch

from graphformers.data.datamodule import GraphDataModule
from graphformers.errors import GraphTooLargeError, PartOptionError
from graphformers.layers.grit import GRITAttention, GRITLayer
from graphformers.mixers.full import FullAttention
from graphformers.models.gps import GPSModel
from graphformers.models.grit import GRITModel
from graphformers.pair_encodings import RRWP, ShortestPathDistance
from graphformers.pair_encodings.all_pairs import all_pairs_of
from graphformers.pair_encodings.precompute import encode_pairs
from graphformers.recipe import ModelConfig, PartSpec, RecipeError, load_recipe
from graphformers.training.module import GraphTask

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "recipes" / "quickstart.yaml"
SIZES = (5, 9, 3, 9)
RRWP_4 = (RRWP(4),)


def _encoded_batch(sizes=SIZES, encodings=RRWP_4, seed: int = 0) -> Batch:
    graphs = [random_graph(n, seed=seed + i) for i, n in enumerate(sizes)]
    encode_pairs(graphs, list(encodings))
    return Batch.from_data_list(graphs)


def _dense_grit_attention(attention: GRITAttention, x: torch.Tensor,
                          pairs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """GRIT's eqs. on one graph, densely: ``x [n, hidden]``, ``pairs [n, n, hidden]`` (row = target i)."""
    n, heads, d = x.size(0), attention.heads, attention.head_dim
    q, k, v = (layer(x).view(n, heads, d) for layer in (attention.query, attention.key, attention.value))
    weight, bias = attention.pair(pairs).view(n, n, heads, 2 * d).split(d, dim=-1)
    product = (q[:, None] + k[None, :]) * weight  # [i, j, heads, d]
    updated = torch.relu(torch.sign(product) * product.abs().sqrt() + bias)
    scores = torch.einsum("ijhd,dh->ijh", updated, attention.score[..., 0]).clamp(-attention.clamp, attention.clamp)
    weights = torch.softmax(scores, dim=1)  # over sources j
    attended = torch.einsum("ijh,jhd->ihd", weights, v)
    attended = attended + torch.einsum("ihd,dhc->ihc", torch.einsum("ijh,ijhd->ihd", weights, updated),
                                       attention.pair_value)
    return attended.reshape(n, -1), updated.reshape(n, n, -1)


def test_grit_attention_equals_the_dense_equations_graph_by_graph():
    torch.manual_seed(0)
    batch = _encoded_batch()
    plan = all_pairs_of(batch)
    attention = GRITAttention(16, 4, dropout=0.0, clamp=2.0).eval()
    x = torch.randn(batch.num_nodes, 16)
    pairs = torch.randn(plan.index.size(1), 16)
    attended, updated = attention(x, pairs, plan.index)
    start = 0
    for g, n in enumerate(SIZES):
        nodes = slice(int(batch.ptr[g]), int(batch.ptr[g + 1]))
        expected_x, expected_pairs = _dense_grit_attention(attention, x[nodes],
                                                           pairs[start:start + n * n].view(n, n, 16))
        torch.testing.assert_close(attended[nodes], expected_x, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(updated[start:start + n * n], expected_pairs.reshape(n * n, 16), atol=1e-5,
                                   rtol=1e-5)
        start += n * n


def test_grit_layer_adds_the_degree_scaler_residuals_and_pair_update_as_written():
    torch.manual_seed(1)
    batch = _encoded_batch()
    plan = all_pairs_of(batch)
    layer = GRITLayer(16, 4, dropout=0.0, attn_dropout=0.0, norm="none", ffn_ratio=2, clamp=5.0, degree_scaler=True,
                      update_pairs=True).eval()
    x, pairs = torch.randn(batch.num_nodes, 16), torch.randn(plan.index.size(1), 16)
    log_degree = torch.log1p(torch.bincount(batch.edge_index[0], minlength=batch.num_nodes).float())[:, None]
    h, e = layer(x, pairs, plan.index, log_degree)
    attended, updated = layer.attention(x, pairs, plan.index)
    theta = layer.degree_coefficients[0]  # [hidden, 2]
    scaled = attended * theta[:, 0] + attended * log_degree * theta[:, 1]
    node = x + layer.node_out(scaled)
    torch.testing.assert_close(h, node + layer.ffn(node))
    torch.testing.assert_close(e, pairs + layer.pair_out(updated))


def _grit_model(level: str = "graph", **options) -> GRITModel:
    config = ModelConfig(name="grit", hidden=16, layers=2, heads=4, local=None, mixer=None,
                         pair_encodings=[PartSpec("rrwp", {"steps": 4})], options=options)
    return GRITModel(config, task_info(level, outputs=3)).eval()


@pytest.mark.parametrize("level", ["graph", "node"])
def test_grit_is_permutation_equivariant(level):
    torch.manual_seed(2)
    model = _grit_model(level)
    graph = random_graph(9, seed=3)
    perm = torch.randperm(9)
    permuted = permute_graph(graph, perm)
    encode_pairs([graph, permuted], [RRWP(4)])
    out, out_permuted = model(Batch.from_data_list([graph])), model(Batch.from_data_list([permuted]))
    torch.testing.assert_close(out_permuted, out if level == "graph" else out[perm], atol=1e-5, rtol=1e-4)


def test_grit_passes_nothing_between_graphs_of_a_batch():
    torch.manual_seed(3)
    model = _grit_model("node")
    batch = _encoded_batch()
    changed = batch.clone()
    second = slice(int(batch.ptr[1]), int(batch.ptr[2]))
    changed.x[second] = torch.randn_like(changed.x[second])
    out, out_changed = model(batch), model(changed)
    others = torch.ones(batch.num_nodes, dtype=torch.bool)
    others[second] = False
    torch.testing.assert_close(out[others], out_changed[others])
    assert not torch.allclose(out[second], out_changed[second])


def test_grit_refuses_a_local_block_a_mixer_a_missing_pair_encoding_and_huge_graphs():
    base = dict(name="grit", hidden=16, layers=1, heads=4, pair_encodings=[PartSpec("rrwp")])
    with pytest.raises(PartOptionError, match="model.local is set, but grit does not read it; remove it"):
        GRITModel(ModelConfig(**base, local=PartSpec("gine")), task_info("graph"))
    with pytest.raises(PartOptionError, match="model.mixer is set, but grit does not read it"):
        GRITModel(ModelConfig(**base, mixer=PartSpec("full")), task_info("graph"))
    with pytest.raises(PartOptionError, match="pair encoding 'rrwp' .* add \\{name: rrwp\\}"):
        GRITModel(ModelConfig(**{**base, "pair_encodings": []}, local=None, mixer=None), task_info("graph"))
    with pytest.raises(GraphTooLargeError, match="10,000 nodes: 100,000,000 pair states .* GiB"):
        _grit_model(max_nodes=3000).check_graph_size(10_000)
    with pytest.raises(RecipeError, match=r"quickstart.yaml: model.local is set, but grit does not read it; remove it "
                                          r"\(the keys grit reads: hidden, layers, heads, encoders, pair_encodings"):
        load_recipe(QUICKSTART, ["model.name=grit", "model.pair_encodings=[{name: rrwp}]"])


def _dense_bias_attention(mixer: FullAttention, x: torch.Tensor, distances: torch.Tensor) -> torch.Tensor:
    n, heads, d = x.size(0), mixer.heads, mixer.hidden // mixer.heads
    q, k, v = mixer.qkv(x).view(n, 3, heads, d).unbind(1)
    scores = torch.einsum("ihd,jhd->hij", q, k) / math.sqrt(d) + mixer.bias_encoder.map(distances).permute(2, 0, 1)
    return mixer.out(torch.einsum("hij,jhd->ihd", torch.softmax(scores, dim=-1), v).reshape(n, -1))


def test_graphormer_bias_equals_the_dense_equation_and_a_zero_bias_changes_nothing():
    torch.manual_seed(4)
    spd = ShortestPathDistance(max_distance=3)
    batch = _encoded_batch(sizes=(5, 9, 3, 9, 8), encodings=[spd])
    mixer = FullAttention(16, 4, dropout=0.0, bias="spd")
    mixer.use_pair_encodings({"spd": spd})
    x = torch.randn(batch.num_nodes, 16)
    out = mixer(x, batch.batch, batch)
    start = 0
    for g in range(batch.num_graphs):
        nodes = slice(int(batch.ptr[g]), int(batch.ptr[g + 1]))
        n = nodes.stop - nodes.start
        distances = batch.spd_attr[start:start + n * n, 0].long().view(n, n)
        torch.testing.assert_close(out[nodes], _dense_bias_attention(mixer, x[nodes], distances), atol=1e-5, rtol=1e-4)
        start += n * n
    plain = FullAttention(16, 4, dropout=0.0)
    plain.load_state_dict({k: v for k, v in mixer.state_dict().items() if not k.startswith("bias_encoder")})
    with torch.no_grad():
        mixer.bias_encoder.map.weight.zero_()
    torch.testing.assert_close(mixer(x, batch.batch, batch), plain(x, batch.batch, batch))


def test_a_bias_without_its_pair_encoding_is_a_recipe_error():
    with pytest.raises(RecipeError,
                       match="bias 'spd' reads the pair encoding 'spd', which model.pair_encodings does not "
                                          "list; add \\{name: spd\\}"):
        load_recipe(QUICKSTART, ["model.mixer={name: full, bias: spd}"])
    recipe = load_recipe(QUICKSTART, ["model.mixer={name: full, bias: spd}", "model.pair_encodings=[{name: spd}]",
                                      "model.encoders=[{name: degree, dim: 8}]"])
    model = GPSModel(recipe.model, task_info("node"))
    assert [type(t).__name__ for t in model.precompute_transforms()] == ["NodeDegrees", "ShortestPathDistance"]


GRIT_ON_RELAY = ["model.name=grit", "model.local=none", "model.mixer=none", "model.encoders=[]",
                 "model.pair_encodings=[{name: rrwp, steps: 6}]", "model.hidden=32", "model.layers=2",
                 "data.options={num_train: 48, num_val: 16, num_test: 16}", "data.batch_size=16",
                 "train.progress_bar=false"]


@pytest.mark.slow
def test_grit_resumed_training_equals_uninterrupted_training(tmp_path):
    overrides = [*GRIT_ON_RELAY, "train.max_epochs=3", "model.dropout=0.1", "train.lr=3e-3"]
    check_resume_is_exact(QUICKSTART, overrides, tmp_path)


@pytest.mark.slow
def test_grit_fits_a_batch_of_relay_graphs():
    recipe = load_recipe(QUICKSTART, GRIT_ON_RELAY)
    datamodule = GraphDataModule(recipe.data, seed=0)
    task = GraphTask(recipe.to_dict(), dataclasses.asdict(datamodule.info))
    datamodule.set_precompute(task.model.precompute_transforms())
    batch = next(iter(datamodule.train_dataloader()))
    optimizer = torch.optim.Adam(task.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = task.objective.loss(*task.predicted(task(batch), batch))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["peptides-func-grit.yaml", "peptides-func-gps.yaml"])
def test_a_training_step_with_pairs_reads_nothing_from_the_device(peptides_root, recipe):
    overrides = [f"data.root={peptides_root}", "data.batch_size=4"]
    if recipe == "peptides-func-gps.yaml":
        overrides += ["model.mixer={name: full, bias: spd}", "model.pair_encodings=[{name: spd}]",
                      "data.pair_storage=per_batch"]
    loaded = load_recipe(REPO / "recipes" / recipe, overrides)
    datamodule = GraphDataModule(loaded.data, seed=0)
    task = GraphTask(loaded.to_dict(), dataclasses.asdict(datamodule.info))
    datamodule.set_precompute(task.model.precompute_transforms())
    datamodule.splits.val = datamodule.splits.val[:4]
    batch = next(iter(datamodule.val_dataloader()))
    task.train()
    with HostReads() as recorder:
        output, target = task.predicted(task(batch), batch)
        task.objective.loss(output, target).backward()
    assert not recorder.reads, recorder.report()


def test_the_readme_gpu_command_for_grit_is_the_full_schedule_with_precomputed_pairs():
    import re

    from graphformers.cli.entry import parse_command
    from graphformers.experiments.multirun import parse_indices

    line = re.search(r"python -m graphformers\.train (recipes/peptides-func-grit\.yaml[^\n]*)",
                     (REPO / "docs" / "results.md").read_text()).group(1)
    _, args = parse_command(["train", *line.split()])
    recipe = load_recipe(REPO / args.recipe, args.overrides)
    assert (recipe.model.name, recipe.train.accelerator, recipe.train.max_epochs) == ("grit", "gpu", 200)
    assert recipe.data.pair_storage == "precompute" and recipe.data.num_workers > 0
    assert len(parse_indices(args.seeds, "--seeds")) >= 3
