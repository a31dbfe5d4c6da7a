"""End to end on real MNIST: the command line's dry run, committed weights, a quick bench."""
import json

import pytest
from conftest import ROOT, needs_mnist

from mnist_digits.checkpoints import read_checkpoint
from mnist_digits.cli import main

pytestmark = needs_mnist
DATA = str(ROOT / "data")


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_train_dry_run_then_evaluate(tmp_path, capsys):
    out = tmp_path / "cnn.pth"
    argv = ["train", "--model", "cnn", "--dry-run", "--out", str(out), "--data", DATA,
            "--device", "cpu", "--json"]
    assert main(argv) == 0
    trained = last_json(capsys)
    assert main(["evaluate", "--weights", str(out), "--data", DATA, "--json",
            "--device", "cpu"]) == 0
    evaluated = last_json(capsys)
    assert evaluated["model"] == "cnn" and evaluated["accuracy"] == trained["accuracy"] > 50
    assert main(argv) == 2  # a second run refuses to overwrite
    assert "already exists" in capsys.readouterr().err


def test_train_on_all_data_keeps_no_validation_split(tmp_path, capsys):
    out = tmp_path / "all.pth"
    assert main(["train", "--model", "mlp", "--dry-run", "--all-data", "--out", str(out),
                 "--data", DATA, "--device", "cpu", "--json"]) == 0
    assert "val acc nan%" in capsys.readouterr().out  # nothing held out, nothing to judge
    meta = read_checkpoint(out)["meta"]
    assert meta["config"]["val_size"] == 0 and meta["metrics"]["accuracy"] > 50


@pytest.mark.parametrize("name", ["mlp", "cnn", "best"])
def test_committed_weights_reproduce_their_accuracy(name, capsys):
    weights = ROOT / "weights" / f"{name}.pth"
    recorded = read_checkpoint(weights)["meta"]["metrics"]
    assert main(["evaluate", "--weights", str(weights), "--data", DATA, "--json",
            "--device", "cpu"]) == 0
    result = last_json(capsys)
    assert result["model"] == name
    # same machine, same kernels: identical; another CPU's kernels may flip a near-tie or two
    assert abs(result["correct"] - recorded["correct"]) <= 2


def test_quick_bench_writes_its_tables(tmp_path, capsys):
    assert main(["bench", "--quick", "--seeds", "0", "1", "--out", str(tmp_path),
                 "--device", "cpu"]) == 0
    result = json.loads((tmp_path / "bench-cpu-quick.json").read_text())
    assert [r["recipe"] for r in result["runs"]][:3] == ["reference MLP", "reference CNN",
                                                        "pytorch/examples"]
    assert result["machine"]["cores"] and result["matmul_gflops"]["float32"] > 0
    assert result["matmul_gflops_at_end"]["bfloat16"] > 0
    ours = [(r["recipe"], r["seed"]) for r in result["runs"] if r["recipe"].startswith("ours")]
    assert ours == [(label, s) for label in ("ours, 1 epoch", "ours") for s in (0, 1)]
    assert result["ours_1_epoch"]["seeds"] == result["ours"]["seeds"] == [0, 1]
    assert set(result["ours"]["ensemble_val"]) == {"none", "shifts", "warps"}
    assert result["ensembles"] == []  # the other members are opt-in
    text = (tmp_path / "bench-cpu-quick.md").read_text()
    assert "| ours |" in text and "| ours, 1 epoch |" in text and "median time to 99.0%" in text


def test_bench_runs_only_the_recipes_asked_for_and_picks_on_validation(tmp_path, capsys):
    labels = ["ours", "ours, wide", "ours, deskewed", "ours, width-normalised"]
    assert main(["bench", "--quick", "--only", *labels, "--seeds", "3", "--out",
                 str(tmp_path), "--device", "cpu"]) == 0
    result = json.loads((tmp_path / "bench-cpu-quick.json").read_text())
    assert [(r["recipe"], r["seed"]) for r in result["runs"]] == [(x, 3) for x in labels]
    assert result["ours_1_epoch"] is None and result["speedups"] == {}
    (e,) = result["ensembles"]  # picked on validation among 3 groups x 3 test-time augmentations
    members = [m.split(" (seed")[0] for m in e["members"]]
    assert members in (["ours, wide"], ["ours", "ours, wide"], labels[:1] + labels[2:])
    assert len(e["val"]) == 9
    assert e["val"][f"{' + '.join(members)}, {e['tta'] or 'none'}"] == max(e["val"].values())
    runs = {r["recipe"]: r for r in result["runs"]}
    assert e["train_seconds"] == sum(runs[label]["train_seconds"] for label in members)
    assert "ensembles over seeds: median" in (tmp_path / "bench-cpu-quick.md").read_text()


def test_bench_all_data_ensembles_consecutive_seeds_with_the_fixed_augmentation(tmp_path):
    assert main(["bench", "--quick", "--only", "ours, all 60k", "--seeds", "0", "1", "2", "3",
                 "--out", str(tmp_path), "--device", "cpu"]) == 0
    result = json.loads((tmp_path / "bench-cpu-quick.json").read_text())
    runs = result["runs"]
    assert [r["config"]["val_size"] for r in runs] == [0] * 4
    assert result["ours"] is None and result["ensembles"] == []  # nothing to pick with
    a = result["all_data"]
    (e,) = a["ensembles"]  # seeds 0-2; seed 3 alone makes no ensemble of 3
    assert e["seeds"] == [0, 1, 2] and e["tta"] == "warps" and a["median"] == e["accuracy"] > 50
    assert e["train_seconds"] == sum(r["train_seconds"] for r in runs[:3])
    assert a["accuracies"] == [r["final_accuracy"] for r in runs]
    assert "all-60k ensembles: median" in (tmp_path / "bench-cpu-quick.md").read_text()
