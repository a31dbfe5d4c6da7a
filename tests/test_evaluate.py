import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, recall_score

from mnist_digits.evaluate import evaluate, per_class_accuracy, summarize
from mnist_digits.models import build_model


def test_per_class_accuracy_agrees_with_sklearn_recall():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 500)
    preds = np.where(rng.random(500) < 0.8, labels, rng.integers(0, 10, 500))
    expected = 100 * recall_score(labels, preds, average=None, labels=range(10))
    np.testing.assert_allclose(per_class_accuracy(labels, preds), expected)


def test_summary_figures_agree_with_references():
    torch.manual_seed(0)
    logits, labels = torch.randn(300, 10), torch.randint(0, 10, (300,))
    s = summarize(logits, labels)
    preds = logits.argmax(1)
    assert s["accuracy"] == pytest.approx(100 * accuracy_score(labels, preds))
    assert s["correct"] == int((preds == labels).sum()) and s["total"] == 300
    assert abs(s["loss"] - torch.nn.functional.cross_entropy(logits, labels).item()) < 1e-6
    assert np.sum(s["confusion"]) == 300


def test_evaluate_switches_to_eval_mode(tiny):
    model = build_model("cnn").train()
    first = evaluate(model, tiny.test_x, tiny.test_y)
    assert not model.training
    assert evaluate(model, tiny.test_x, tiny.test_y) == first  # dropout off: deterministic


def test_evaluate_without_images_reports_nothing_rather_than_failing():
    m = evaluate(build_model("mlp"), torch.empty(0, 1, 28, 28), torch.empty(0, dtype=torch.long))
    assert m["total"] == 0 and np.isnan(m["accuracy"]) and np.isnan(m["loss"])
