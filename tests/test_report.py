import json

import pytest
from conftest import ROOT

from mnist_digits.bench.tables import (
    THRESHOLDS,
    markdown,
    speedups,
    summarize_fast,
    summarize_ours,
)


def run(recipe, seed, acc, times, seconds=100.0):
    """A bench row: `times` are the seconds to each of THRESHOLDS (None: not reached)."""
    return {"recipe": recipe, "seed": seed, "final_accuracy": acc, "train_seconds": seconds,
            "time_to": {str(t): x for t, x in zip(THRESHOLDS, times, strict=True)}}


ROWS = [run("reference CNN", 0, 99.2, [100, None, None, None]),
        run("ours, 1 epoch", 0, 99.1, [10, None, None, None], 12),
        run("ours, 1 epoch", 1, 99.2, [14, None, None, None], 13),
        run("ours", 0, 99.6, [20, 40, 60, None], 240),
        run("ours", 1, 99.7, [30, 50, 70, 90], 250)]


def test_ours_is_summarized_as_mean_and_std_over_seeds():
    o = summarize_ours(ROWS)
    assert o["seeds"] == [0, 1] and o["accuracies"] == [99.6, 99.7] and o["best"] == 99.7
    assert o["mean"] == pytest.approx(99.65) and o["std"] == pytest.approx(0.0707, abs=1e-4)
    assert o["max_train_seconds"] == 250
    assert summarize_ours(ROWS[:1]) is None
    assert summarize_ours(ROWS[:4])["std"] == 0.0  # one seed: no spread


def test_one_epoch_recipe_reports_median_time_to_99():
    f = summarize_fast(ROWS)
    assert f["seeds"] == [0, 1] and f["median_train_seconds"] == 12.5
    assert f["median_time_to_99.0"] == 12  # median of 10 and 14


def test_speedups_take_the_fastest_of_our_recipes_per_threshold():
    (label, ratios), = speedups(ROWS).items()
    assert label == "reference CNN"
    assert ratios == {"99.0": 100 / 12, "99.3": None, "99.5": None, "99.65": None}
    assert speedups([r for r in ROWS if r["recipe"] != "ours, 1 epoch"])["reference CNN"][
        "99.0"] == 100 / 25  # median over our seeds


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_committed_bench_results_still_render(device):
    result = json.loads((ROOT / f"results/bench-{device}.json").read_text())
    text = markdown(result)
    assert "| recipe | seed | epochs | precision |" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(result["runs"])  # the header, then one row per run
    o = result["ours"]
    assert f"ours over seeds {o['seeds']}: {o['mean']:.2f} ± {o['std']:.2f}%" in text
    assert "- vs reference CNN: 99.0%: " in text and "ensemble" not in text
