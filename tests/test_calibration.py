"""Calibration: the error measure, the fitted temperature, and its use by predict and evaluate."""
import json
import math

import numpy as np
import pytest
import torch
from test_predict import META, digit

from mnist_digits.checkpoints import TEMPERATURES, load_checkpoint, save_checkpoint, temperature
from mnist_digits.cli import calibration, main
from mnist_digits.errors import MnistError
from mnist_digits.lesson import calibrate, calibration_error, fit_temperature, predict_logits
from mnist_digits.reading.photo import prepare
from mnist_digits.reading.predict import predict_files
from mnist_digits.recipes import build_model


def test_calibration_error_is_the_gap_between_confidence_and_accuracy():
    probs = torch.tensor([[0.9, 0.1]] * 10)
    assert calibration_error(probs, torch.zeros(10, dtype=torch.long)) == pytest.approx(0.1)
    half_right = torch.tensor([0] * 5 + [1] * 5)
    assert calibration_error(probs, half_right) == pytest.approx(0.4)  # 90% sure, 50% right


def test_calibration_error_weighs_each_bin_by_its_share():
    probs = torch.tensor([[1.0, 0.0]] * 3 + [[0.55, 0.45]])  # top bin: 3 right; 0.55: wrong
    labels = torch.tensor([0, 0, 0, 1])
    assert calibration_error(probs, labels) == pytest.approx(0.25 * 0.55)


def test_fitted_temperature_recovers_the_one_that_made_the_labels():
    g = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(20_000, 10, generator=g)
    labels = torch.multinomial((logits / 2.0).softmax(1), 1, generator=g).squeeze(1)
    t = fit_temperature(logits, labels)
    assert t == pytest.approx(2.0, rel=0.05)
    ece_fitted = calibration_error((logits / t).softmax(1), labels)
    assert ece_fitted < 0.02 < calibration_error(logits.softmax(1), labels)


def test_calibrate_without_a_validation_split_keeps_the_logits(tiny):
    model = build_model("mlp")
    empty = type(tiny)(tiny.train_x, tiny.train_y, tiny.val_x[:0], tiny.val_y[:0], tiny.test_x,
                       tiny.test_y, mean=tiny.mean, std=tiny.std)
    assert calibrate(model, empty) == 1.0
    assert calibrate(model, tiny) == pytest.approx(
        fit_temperature(predict_logits(model, tiny.val_x), tiny.val_y))


def test_a_checkpoint_without_a_temperature_reads_as_one():
    assert temperature({}, "m.pth") == 1.0
    assert temperature({"temperature": 0.5}, "m.pth") == 0.5
    low, high = TEMPERATURES  # the bounds themselves are usable
    assert temperature({"temperature": low}, "m.pth") == low
    assert temperature({"temperature": high}, "m.pth") == high


@pytest.mark.parametrize("bad", [0, -1.0, 0.01, 100.0, math.nan, math.inf, "0.5", True, None])
def test_an_absurd_temperature_is_refused_in_one_line(bad):
    with pytest.raises(MnistError, match="unusable temperature") as e:
        temperature({"temperature": bad}, "m.pth")
    assert "\n" not in str(e.value)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same weights saved twice: without a temperature, and with T = 0.5."""
    folder = tmp_path_factory.mktemp("cal")
    torch.manual_seed(0)
    model = build_model("cnn")
    plain = save_checkpoint(folder / "plain.pth", model, META)
    sharp = save_checkpoint(folder / "sharp.pth", model, {**META, "temperature": 0.5})
    return plain, sharp, digit(folder / "d.png")


def test_predict_divides_the_logits_by_the_checkpoints_temperature(pair):
    plain, sharp, image = pair
    model, _ = load_checkpoint(plain)
    x = (torch.tensor(prepare(image))[None, None] - META["normalization"]["mean"]) \
        / META["normalization"]["std"]
    logits = predict_logits(model, x)[0]
    for weights, t in [(plain, 1.0), (sharp, 0.5)]:
        probs = [p for _, p in sorted(predict_files([image], weights)[0]["top3"])]
        expected = (logits / t).softmax(0).sort(descending=True).values[:3]
        assert sorted(probs, reverse=True) == pytest.approx(expected.tolist(), abs=1e-5)


def test_predict_json_shows_the_calibrated_probability(pair, capsys):
    plain, sharp, image = pair
    shown = {}
    for weights in (plain, sharp):
        assert main(["predict", str(image), "--weights", str(weights), "--json"]) == 0
        shown[weights] = json.loads(capsys.readouterr().out)["probability"]
    assert shown[sharp] > shown[plain]  # T < 1 sharpens: the same answer, surer


def test_a_checkpoint_with_an_absurd_temperature_is_refused_by_predict(tmp_path, capsys):
    bad = save_checkpoint(tmp_path / "bad.pth", build_model("cnn"), {**META, "temperature": -2})
    assert main(["predict", str(digit(tmp_path / "d.png")), "--weights", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unusable temperature -2" in err and "Traceback" not in err


def test_evaluate_reports_the_error_with_and_without_the_temperature():
    g = torch.Generator().manual_seed(1)
    logits = 5 * torch.randn(4000, 10, generator=g)
    labels = torch.multinomial((logits / 5.0).softmax(1), 1, generator=g).squeeze(1)
    r = calibration(logits, labels, 5.0)
    assert r["temperature"] == 5.0 and r["calibration_error"] < 3 < r["calibration_error_at_1"]
    assert np.isclose(r["calibration_error"],
                      100 * calibration_error((logits / 5).softmax(1), labels))
