"""Losses and metrics of each task type against scikit-learn / hand-written references."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from graphformers.errors import GraphformersError
from graphformers.metrics import METRICS
from graphformers.task import TASKS, TaskInfo
from graphformers.training.objectives import objective_for


def _score(task: str, metric: str, outputs: int, prediction: torch.Tensor, target: torch.Tensor) -> float:
    info = TaskInfo(level="graph", task=task, num_outputs=outputs, metric=metric, node_encoder="linear", node_in=1)
    objective = objective_for(info)
    scorer = objective.make_metric()
    scorer.update(*TASKS[task].metric_inputs(prediction, target))
    return float(scorer.compute())


def test_multiclass_accuracy():
    torch.manual_seed(0)
    logits, target = torch.randn(50, 4), torch.randint(0, 4, (50,))
    expected = (logits.argmax(-1) == target).float().mean().item()
    assert _score("multiclass", "accuracy", 4, logits, target) == pytest.approx(expected)


def test_binary_auroc_matches_sklearn():
    torch.manual_seed(0)
    logits, target = torch.randn(80, 1), torch.randint(0, 2, (80, 1))
    expected = roc_auc_score(target.numpy().ravel(), logits.numpy().ravel())
    assert _score("binary", "auroc", 1, logits, target) == pytest.approx(expected, abs=1e-6)


def test_multilabel_ap_is_the_mean_of_per_task_sklearn_ap():
    torch.manual_seed(0)
    logits, target = torch.randn(100, 5), torch.randint(0, 2, (100, 5))
    expected = np.mean([average_precision_score(target[:, i], logits[:, i]) for i in range(5)])
    assert _score("multilabel", "ap", 5, logits, target) == pytest.approx(expected, abs=1e-6)


def test_regression_mae():
    torch.manual_seed(0)
    prediction, target = torch.randn(30, 2), torch.randn(30, 2)
    assert _score("regression", "mae", 2, prediction,
                  target) == pytest.approx((prediction - target).abs().mean().item())


def test_the_task_and_metric_tables_agree():
    """Each task's default metric scores it, every metric's factories are for known tasks, a metric
    without factories is one an ogb Evaluator reports, and a task outside the table is refused."""
    with pytest.raises(GraphformersError, match="task 'ordinal' is not a task type \\(multiclass, binary"):
        TaskInfo(level="graph", task="ordinal", num_outputs=1, metric="mae", node_encoder="linear", node_in=1)
    for name, task in TASKS.items():
        assert name in METRICS[task.default_metric].factories, name
    for metric in METRICS.values():
        assert set(metric.factories) <= set(TASKS), metric.name
    assert {name for name, metric in METRICS.items() if not metric.factories} == {"rocauc", "acc"}
    assert not METRICS["mae"].higher_is_better and METRICS["rocauc"].higher_is_better and not METRICS["rmse"].fraction


def test_multilabel_loss_ignores_missing_labels():
    info = TaskInfo(level="graph", task="multilabel", num_outputs=2, metric="ap", node_encoder="linear", node_in=1)
    loss = objective_for(info).loss
    logits = torch.tensor([[0.3, -1.0], [2.0, 0.5]])
    target = torch.tensor([[1.0, float("nan")], [0.0, 1.0]])
    labelled = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor([0.3, 2.0, 0.5]), torch.tensor([1.0, 0.0, 1.0]))
    assert loss(logits, target).item() == pytest.approx(labelled.item())


def test_a_task_declared_with_a_metric_that_cannot_score_it_is_refused():
    with pytest.raises(GraphformersError, match=r"metric 'accuracy' does not score regression tasks \(those: mae, "
                                                r"rmse; 'accuracy' only through an ogb Evaluator\)"):
        TaskInfo(level="graph", task="regression", num_outputs=1, metric="accuracy", node_encoder="linear", node_in=1)
    with pytest.raises(GraphformersError, match="metric 'x' is not a metric"):
        TaskInfo(level="graph", task="regression", num_outputs=1, metric="x", node_encoder="linear", node_in=1)


def test_multilabel_ap_ignores_missing_labels():
    torch.manual_seed(0)
    logits, target = torch.randn(60, 3), torch.randint(0, 2, (60, 3)).float()
    target[::4, 1] = float("nan")
    expected = np.mean([average_precision_score(target[~target[:, i].isnan(), i], logits[~target[:, i].isnan(), i])
                        for i in range(3)])
    assert _score("multilabel", "ap", 3, logits, target) == pytest.approx(expected, abs=1e-6)


def test_multilabel_loss_of_an_unlabelled_batch_is_zero_not_nan():
    info = TaskInfo(level="graph", task="multilabel", num_outputs=2, metric="ap", node_encoder="linear", node_in=1)
    logits = torch.randn(3, 2, requires_grad=True)
    loss = objective_for(info).loss(logits, torch.full((3, 2), float("nan")))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(logits.grad, torch.zeros(3, 2))


@pytest.mark.parametrize("dataset,task,outputs,metric", [("ogbg-molhiv", "binary", 1, "rocauc"),
                                                        ("ogbg-molpcba", "multilabel", 128, "ap")])
def test_ogb_metrics_equal_the_official_evaluator_over_several_batches(dataset, task, outputs, metric):
    from ogb.graphproppred import Evaluator

    info = TaskInfo(level="graph", task=task, num_outputs=outputs, metric=metric, node_encoder="atom", node_in=9,
                    evaluator=dataset)
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(300, outputs, generator=generator)
    target = torch.randint(0, 2, (300, outputs), generator=generator).float()
    if outputs > 1:
        target[torch.rand(300, outputs, generator=generator) < 0.3] = float("nan")
    metric = objective_for(info).make_metric()
    for rows in torch.arange(300).split(64):
        batch_scores = scores[rows].squeeze(-1) if outputs == 1 else scores[rows]
        metric.update(*TASKS[task].metric_inputs(batch_scores, target[rows]))
    evaluator = Evaluator(dataset)
    official = evaluator.eval({"y_true": target.numpy(), "y_pred": scores.numpy()})[evaluator.eval_metric]
    assert float(metric.compute()) == pytest.approx(official, abs=1e-6)


def test_ogb_rocauc_of_scores_with_one_class_only_is_undefined_not_a_crash():
    info = TaskInfo(level="graph", task="binary", num_outputs=1, metric="rocauc", node_encoder="atom", node_in=9,
                    evaluator="ogbg-molbace")
    metric = objective_for(info).make_metric()
    metric.update(*TASKS["binary"].metric_inputs(torch.randn(8), torch.zeros(8)))  # no positive: ogb raises
    assert torch.isnan(metric.compute())


def test_macro_f1_is_sklearns_over_the_classes_that_occur():
    """LRGB's PascalVOC-SP / COCO-SP score: sklearn ``f1_score(average="macro")`` over all nodes of a split."""
    from sklearn.metrics import f1_score

    info = TaskInfo(level="node", task="multiclass", num_outputs=21, metric="f1", node_encoder="linear", node_in=14)
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(500, 21, generator=generator)
    logits[:, 17:] -= 100  # classes 17..20 never predicted
    target = torch.randint(0, 19, (500,), generator=generator)  # classes 19, 20 never occur
    metric = objective_for(info).make_metric()
    for rows in torch.arange(500).split(128):
        metric.update(*TASKS["multiclass"].metric_inputs(logits[rows], target[rows]))
    expected = f1_score(target.numpy(), logits.argmax(-1).numpy(), average="macro")
    assert float(metric.compute()) == pytest.approx(expected, abs=1e-6)


def test_ogbn_accuracy_equals_the_official_node_evaluator():
    from ogb.nodeproppred import Evaluator

    info = TaskInfo(level="node", task="multiclass", num_outputs=40, metric="acc", node_encoder="linear",
                    node_in=128, evaluator="ogbn-arxiv")
    generator = torch.Generator().manual_seed(0)
    scores, target = torch.randn(200, 40, generator=generator), torch.randint(0, 40, (200, 1), generator=generator)
    metric = objective_for(info).make_metric()
    for rows in torch.arange(200).split(70):
        metric.update(*TASKS["multiclass"].metric_inputs(scores[rows], target[rows]))
    official = Evaluator("ogbn-arxiv").eval({"y_true": target.numpy(),
                                             "y_pred": scores.argmax(-1, keepdim=True).numpy()})
    assert float(metric.compute()) == pytest.approx(official["acc"], abs=1e-6)


def test_a_new_task_type_is_one_entry_of_the_table(monkeypatch):
    """A task type scored by another's metrics (``scored_as``) needs no line in the metric table."""
    from graphformers.task import TASKS, Task

    def poisson(log_rates, target, info):
        return torch.nn.functional.poisson_nll_loss(log_rates, target.view(log_rates.shape))

    monkeypatch.setitem(TASKS, "count", Task("count", poisson, TASKS["regression"].metric_inputs,
                                             lambda output, info: output.exp(), "mae", scored_as="regression"))
    info = TaskInfo(level="graph", task="count", num_outputs=1, metric="rmse", node_encoder="linear", node_in=1)
    objective = objective_for(info)
    metric = objective.make_metric()
    metric.update(*TASKS["count"].evaluation_inputs(None, torch.tensor([[1.0], [3.0]]), torch.tensor([1.0, 7.0]),
                                                    None, info))
    assert float(metric.compute()) == pytest.approx((16 / 2) ** 0.5)
    assert float(objective.loss(torch.zeros(2, 1), torch.ones(2))) == pytest.approx(1.0)  # exp(0) - 1 * 0
    assert TASKS["count"].metric_names() == ["mae", "rmse"]
