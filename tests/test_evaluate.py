"""The lesson's evaluation agrees with scikit-learn and PyTorch references."""
import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, recall_score
from torch import nn

from mnist_digits.lesson import evaluate
from mnist_digits.recipes import build_model


class Fixed(nn.Module):
    """A 'model' whose logits are given: evaluate's arithmetic is all that is tested."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, x):
        return self.logits[x.flatten(1)[:, 0].long()]  # each image names its row


def scored(logits, labels) -> dict:
    index = torch.arange(len(labels)).float().view(-1, 1, 1, 1).expand(-1, 1, 28, 28)
    return evaluate(Fixed(logits), index.contiguous(), labels)


def test_figures_agree_with_sklearn_and_torch():
    torch.manual_seed(0)
    labels = torch.randint(0, 10, (500,))
    right = 4 * nn.functional.one_hot(labels, 10) * (torch.rand(500, 1) < 0.8)
    logits = torch.randn(500, 10) + right
    s, preds = scored(logits, labels), logits.argmax(1)
    assert s["accuracy"] == pytest.approx(100 * accuracy_score(labels, preds))
    assert s["correct"] == int((preds == labels).sum()) and s["total"] == 500
    assert s["loss"] == pytest.approx(nn.functional.cross_entropy(logits, labels).item(), abs=1e-6)
    expected = 100 * recall_score(labels, preds, average=None, labels=range(10))
    np.testing.assert_allclose(s["per_class"], expected)
    assert np.sum(s["confusion"]) == 500 and np.trace(s["confusion"]) == s["correct"]


def test_a_class_absent_from_the_labels_scores_zero_not_nan():
    labels, logits = torch.zeros(4, dtype=torch.long), torch.eye(10)[[0, 0, 3, 0]]
    s = scored(logits, labels)
    assert s["per_class"][0] == 75.0 and s["per_class"][3] == 0.0


def test_evaluate_switches_to_eval_mode(tiny):
    model = build_model("cnn").train()
    first = evaluate(model, tiny.test_x, tiny.test_y)
    assert not model.training
    again = evaluate(model, tiny.test_x, tiny.test_y)  # dropout off: deterministic
    assert torch.equal(again.pop("preds"), first.pop("preds"))
    assert torch.equal(again.pop("logits"), first.pop("logits")) and again == first


def test_evaluate_without_images_reports_nothing_rather_than_failing():
    m = evaluate(build_model("mlp"), torch.empty(0, 1, 28, 28), torch.empty(0, dtype=torch.long))
    assert m["total"] == 0 and np.isnan(m["accuracy"]) and np.isnan(m["loss"])
