"""End to end on real MNIST: the command line in fast mode, committed weights, a fast bench."""
import argparse
import json
import statistics

import pytest
from conftest import ROOT, needs_mnist

from mnist_digits.bench.run import configs, out_folder
from mnist_digits.bench.tables import THRESHOLDS
from mnist_digits.checkpoints import read_checkpoint
from mnist_digits.cli import main
from mnist_digits.lesson import RECIPES

pytestmark = needs_mnist
DATA = str(ROOT / "data")


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_train_fast_then_evaluate(tmp_path, capsys):
    out = tmp_path / "cnn.pth"
    argv = ["train", "--model", "cnn", "--fast", "--out", str(out), "--data", DATA,
            "--device", "cpu", "--json"]
    assert main(argv) == 0
    trained = last_json(capsys)
    assert main(["evaluate", "--weights", str(out), "--data", DATA, "--json",
            "--device", "cpu"]) == 0
    evaluated = last_json(capsys)
    assert evaluated["model"] == "cnn" and evaluated["accuracy"] == trained["accuracy"] > 50
    assert evaluated["temperature"] == trained["temperature"] != 1.0  # fitted, stored, used
    assert evaluated["calibration_error"] == pytest.approx(trained["calibration_error"])
    assert main(argv) == 2  # a second run refuses to overwrite
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_precision_is_said_once_and_recorded_in_the_checkpoint(tmp_path, capsys, precision):
    out = tmp_path / "m.pth"
    assert main(["train", "--model", "mlp", "--fast", "--precision", precision, "--out",
                 str(out), "--data", DATA, "--device", "cpu", "--json"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("precision: ") == 1 and f"(precision={precision!r})" in printed
    assert json.loads(printed.strip().splitlines()[-1])["precision"] == precision
    assert read_checkpoint(out)["meta"]["config"]["precision"] == precision


def test_train_on_all_data_keeps_no_validation_split(tmp_path, capsys):
    out = tmp_path / "all.pth"
    assert main(["train", "--model", "mlp", "--fast", "--all-data", "--out", str(out),
                 "--data", DATA, "--device", "cpu", "--json"]) == 0
    assert "val acc nan%" in capsys.readouterr().out  # nothing held out, nothing to judge
    meta = read_checkpoint(out)["meta"]
    assert meta["config"]["val_size"] == 0 and meta["metrics"]["accuracy"] > 50


@pytest.mark.parametrize("name", ["linear", "mlp", "cnn", "best", "reader"])
def test_committed_weights_reproduce_their_accuracy(name, capsys):
    weights = ROOT / "weights" / f"{name}.pth"
    recorded = read_checkpoint(weights)["meta"]["metrics"]
    assert main(["evaluate", "--weights", str(weights), "--data", DATA, "--json",
            "--device", "cpu"]) == 0
    result = last_json(capsys)
    assert result["model"] == {"reader": "best"}.get(name, name)  # the reader: a best CNN
    # same machine, same kernels: identical (measured); another CPU's float32 kernels move the
    # loss by about 1e-6 and may flip one near-tie; a 1% error in the normalisation does more
    assert abs(result["correct"] - recorded["correct"]) <= 1
    assert result["loss"] == pytest.approx(recorded["loss"], rel=1e-4)


def test_fast_bench_writes_its_tables(tmp_path, capsys):
    assert main(["bench", "--fast", "--seeds", "0", "1", "--out", str(tmp_path),
                 "--device", "cpu"]) == 0
    result = json.loads((tmp_path / "bench-cpu-fast.json").read_text())
    runs = result["runs"]
    refs = ["reference MLP", "reference CNN", "pytorch/examples"]
    assert [(r["recipe"], r["seed"]) for r in runs] == [(x, 0) for x in refs] + [
        (label, s) for label in ("ours, 1 epoch", "ours") for s in (0, 1)]
    assert [r["precision"] for r in runs[:3]] == ["fp32"] * 3  # the references as published
    assert result["machine"]["cores"] and set(result["matmul_gflops"]) == {"float32", "bfloat16"}
    accs = [r["final_accuracy"] for r in runs if r["recipe"] == "ours"]
    o = result["ours"]
    assert o["seeds"] == result["ours_1_epoch"]["seeds"] == [0, 1] and o["accuracies"] == accs
    assert o["mean"] == pytest.approx(statistics.mean(accs))
    assert o["std"] == pytest.approx(statistics.stdev(accs))
    assert list(result["speedups"]) == refs
    assert all(list(v) == [str(t) for t in THRESHOLDS] for v in result["speedups"].values())
    assert set(result) == {"machine", "device", "fast", "args", "matmul_gflops",
                           "matmul_gflops_at_end", "runs", "ours", "ours_1_epoch", "speedups"}
    text = (tmp_path / "bench-cpu-fast.md").read_text()
    assert "| reference MLP | 0 | 1 | fp32 |" in text and "| ours, 1 epoch | 1 | 1 |" in text
    assert f"ours over seeds [0, 1]: {o['mean']:.2f} ± {o['std']:.2f}%" in text
    assert "median time to 99.0%" in text and "- vs pytorch/examples: 99.0%: " in text


def test_bench_only_runs_the_recipes_asked_for_with_the_references_as_published():
    args = argparse.Namespace(only=["ours", "pytorch/examples"], seeds=[3, 4], fast=False,
                              max_epochs=12, epochs=0)
    (label, examples), *ours = configs(args)
    assert label == "pytorch/examples" and examples.seed == 3
    assert (examples.optimizer, examples.lr, examples.batch_size, examples.epochs,
            examples.precision) == ("adadelta", 1.0, 64, 12, "fp32")  # capped at 12 epochs
    epochs = RECIPES["best"]["epochs"]  # ours: the notebook's best CNN, as its recipe says
    assert [(label, cfg.seed, cfg.epochs) for label, cfg in ours] == [("ours", 3, epochs),
                                                                     ("ours", 4, epochs)]
    args.epochs = 10  # a budget study: ours only, the references as published
    assert [(label, cfg.epochs) for label, cfg in configs(args)] == [
        ("pytorch/examples", 12), ("ours", 10), ("ours", 10)]


def test_only_the_full_benchmark_writes_into_results_by_default():
    def folder(**changes):
        args = argparse.Namespace(out=None, fast=False, epochs=0)
        return str(out_folder(argparse.Namespace(**{**vars(args), **changes})))
    assert folder() == "results" and folder(out="x") == "x"
    assert folder(fast=True) == folder(epochs=10) == "runs"

