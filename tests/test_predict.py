"""Predictions from a checkpoint: the Python API and ``python -m graphformers.predict`` on a SMILES CSV,
a graphs file and a split, equal to the trained model's own outputs, and inputs that do not fit refused."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch_geometric.data import Batch, Data

import graphformers
from graphformers.prediction import PredictionInputError
from graphformers.recipe import load_recipe
from graphformers.training.runner import run

REPO = Path(__file__).resolve().parent.parent
BBBP = "MoleculeNet/bbbp/raw/BBBP.csv"


@pytest.fixture(scope="module")
def bbbp_run(shared_data, tmp_path_factory):
    """A small GPS model (with RWSE, so the precompute matters) trained briefly on BBBP via smiles-csv."""
    root = tmp_path_factory.mktemp("predict-root")
    (root / BBBP).parent.mkdir(parents=True)
    shutil.copy(shared_data / BBBP, root / BBBP)
    recipe_file = root / "bbbp.yaml"
    recipe_file.write_text(
        "model: {hidden: 32, layers: 2, heads: 4, local: gine, mixer: full, encoders: [{name: rwse, dim: 8, steps: "
        "8}]}\n"
        f"data: {{name: smiles-csv, root: {root}, batch_size: 64, options: {{path: {BBBP}, targets: [p_np], "
        "skip_invalid: true}}\n"
        f"train: {{max_epochs: 1, limit_batches: 4, lr: 0.003, out_dir: {root / 'runs'}, progress_bar: false}}\n")
    return root, run(load_recipe(recipe_file))


def _direct(predictor, graphs: list[Data]) -> torch.Tensor:
    """The model's own outputs on one batch of the graphs, each given its encodings transform by transform."""
    transformed = [graph.clone() for graph in graphs]
    for transform in predictor.task.model.precompute_transforms():
        transformed = [transform(graph) for graph in transformed]
    with torch.no_grad():
        return predictor.task.model(Batch.from_data_list(transformed)).sigmoid()


@pytest.mark.slow
def test_load_predicts_the_models_own_outputs_in_input_order(bbbp_run):
    root, result = bbbp_run
    predictor = graphformers.load(str(result.best_checkpoint))
    from graphformers.data.datamodule import load_split_dataset

    graphs = list(load_split_dataset(predictor.recipe.data).test)[:50]
    predicted = predictor.predict(graphs, batch_size=16, progress=False)
    assert predicted.shape == (50, 1) and bool(((predicted > 0) & (predicted < 1)).all())
    torch.testing.assert_close(predicted, _direct(predictor, graphs), atol=1e-5, rtol=1e-4)
    reversed_order = predictor.predict(graphs[::-1], batch_size=7, progress=False)
    torch.testing.assert_close(reversed_order, predicted.flip(0), atol=1e-5, rtol=1e-4)


def test_inputs_that_do_not_fit_the_checkpoint_are_refused(bbbp_run):
    _, result = bbbp_run
    predictor = graphformers.load(str(result.best_checkpoint))
    wrong = Data(x=torch.zeros(4, 5, dtype=torch.long), edge_index=torch.tensor([[0, 1], [1, 0]]),
                 edge_attr=torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(PredictionInputError, match="input graph 0: x has 5 features per row, but the 'atom' encoder "
                                                   "expects 9; give graphs with the features the checkpoint's model"):
        predictor.predict([wrong], progress=False)
    with pytest.raises(PredictionInputError, match="checkpoint 'missing.ckpt' not found"):
        graphformers.load("missing.ckpt")


def _predict_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphformers.predict", *args, "--no-progress"], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_predict_command_reads_smiles_csv_graph_files_and_splits(bbbp_run, tmp_path):
    root, result = bbbp_run
    checkpoint = str(result.best_checkpoint)
    table = pd.read_csv(root / BBBP).iloc[40:70]  # holds line 61 and 63's unparsable SMILES
    table.to_csv(tmp_path / "new.csv", index=False)
    refused = _predict_cli(checkpoint, str(tmp_path / "new.csv"), "--out", str(tmp_path / "p.csv"))
    assert refused.returncode == 2 and refused.stderr.startswith("error: ") and "on lines 21, 23" in refused.stderr
    done = _predict_cli(checkpoint, str(tmp_path / "new.csv"), "--skip-invalid", "--out", str(tmp_path / "p.csv"))
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(tmp_path / "p.csv")
    assert list(written.columns) == ["row", "smiles", "p_p_np"] and len(written) == 28
    predictor = graphformers.load(checkpoint)
    from graphformers.data.custom.smiles_csv import molecule

    graphs = [molecule(smiles) for smiles in written.smiles]
    expected = predictor.predict(graphs, progress=False).view(-1)
    torch.testing.assert_close(torch.tensor(written.p_p_np.to_numpy(), dtype=torch.float), expected, atol=1e-5,
                               rtol=1e-4)
    torch.save(graphs[:5], tmp_path / "graphs.pt")
    from_file = _predict_cli(checkpoint, str(tmp_path / "graphs.pt"), "--out", str(tmp_path / "g.csv"))
    assert from_file.returncode == 0, from_file.stderr
    assert pd.read_csv(tmp_path / "g.csv").p_p_np.round(5).tolist() == written.p_p_np[:5].round(5).tolist()
    split = _predict_cli(checkpoint, "test", "--out", str(tmp_path / "t.csv"))
    assert split.returncode == 0, split.stderr
    for noise in ("LeafSpec", "custom batch sampler", "litlogger"):  # Lightning's, saying nothing of these runs
        assert noise not in split.stderr + from_file.stderr + done.stderr, noise
    assert len(pd.read_csv(tmp_path / "t.csv")) == 204
    torch.save([{"x": 1}], tmp_path / "bad.pt")
    bad = _predict_cli(checkpoint, str(tmp_path / "bad.pt"))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "entry 0 is a dict" in bad.stderr


@pytest.mark.slow
def test_node_level_predictions_are_class_probabilities_per_node(shared_data, tmp_path):
    shutil.copytree(shared_data / "Planetoid" / "Cora", tmp_path / "Planetoid" / "Cora")
    recipe_file = tmp_path / "cora.yaml"
    recipe_file.write_text(
        "model: {hidden: 16, layers: 1, heads: 2, local: gcn, mixer: none}\n"
        f"data: {{name: pyg, root: {tmp_path}, options: {{class: Planetoid, name: Cora}}}}\n"
        f"train: {{max_epochs: 2, lr: 0.01, out_dir: {tmp_path / 'runs'}, progress_bar: false}}\n")
    result = run(load_recipe(recipe_file))
    done = _predict_cli(str(result.best_checkpoint), "test", "--out", str(tmp_path / "nodes.csv"))
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "nodes.csv")
    assert list(table.columns[:2]) == ["graph", "node"] and len(table) == 1000
    probabilities = table[[f"p_class_{k}" for k in range(7)]].to_numpy()
    assert abs(probabilities.sum(axis=1) - 1).max() < 1e-4
