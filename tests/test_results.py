"""The results files: each one whole JSON, those in results/ naming their machine, and the
README quoting them as they are."""
import json
import re
import runpy

import pytest
from conftest import ROOT, needs_mnist

from mnist_digits.reading.predict import THRESHOLD

RESULTS = sorted([*ROOT.glob("results/*.json"), *ROOT.glob("research/**/*.json")])
README = (ROOT / "README.md").read_text()
PROSE = " ".join(README.split())  # the README's words, wherever its lines break


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_results_file_is_whole_json_and_those_quoted_name_their_machine(path):
    result = json.loads(path.read_text())  # a clobbered file fails here
    assert path.parent.name != "results" or "cpu" in result["machine"]


def readme_row(start: str) -> list[float]:
    """The numbers in the README's table row that starts with `start`."""
    row = next(ln for ln in README.splitlines() if ln.startswith(start))
    return [float(x) for x in re.findall(r"\d+\.\d+", row.removeprefix(start))]


def test_the_readme_quotes_the_reading_figures_from_their_files():
    runs = json.loads((ROOT / "results/frame-filling.json").read_text())["runs"]
    rows = ["| `reader.pth` |", "| the reader before |", "| before issue 22 |"]
    whole = json.loads((ROOT / "results/frame-filling-all.json").read_text())["runs"]
    before = ROOT / "research/reading-model/frame-filling-all-vote-before.json"
    before = json.loads(before.read_text())["runs"]  # the photo pipeline before its last cue
    rows = [*rows, "| `reader.pth`, all 10,000 |", "| the same, the vote before |"]
    runs = [*runs, *whole, *before]
    for start, run in zip(rows, runs, strict=True):
        assert readme_row(start) == [k["accuracy"] for k in run["kinds"].values()]
    assert runs[0]["weights"] == whole[0]["weights"] == before[0]["weights"] == "weights/reader.pth"
    mistakes = [sum(k["answers"]["wrong"] + k["refused"] for k in run["kinds"].values())
                for run in runs]
    assert f"mistakes are as many ({mistakes[0]} against {mistakes[1]})" in PROSE
    assert f"{mistakes[4] - mistakes[3]} fewer mistakes than the vote before" in PROSE
    style = json.loads((ROOT / "results/user-style.json").read_text())
    assert style["weights"] == "weights/reader.pth"
    assert f"**{style['user_style_accuracy']:.2f}%** ([`results/user-style.json`]" in PROSE


def flagged(path: str) -> tuple[float, float]:
    """% of the wrong and of the right answers flagged at predict's threshold, all kinds."""
    kinds = json.loads((ROOT / path).read_text())["runs"][0]["kinds"].values()
    at = str(THRESHOLD)
    return tuple(100 * sum(k["flagged_at"][at][i] for k in kinds)
                 / sum(k["answers"][side] for k in kinds)
                 for i, side in enumerate(["wrong", "right"]))


def test_the_readme_quotes_the_flags_at_predicts_threshold_from_their_files():
    first, whole = flagged("results/frame-filling.json"), flagged("results/frame-filling-all.json")
    assert f"`predict`'s threshold, {THRESHOLD} (chosen" in PROSE
    assert "{:.1f}% of the wrong answers and {:.2f}% of the right".format(*first) in PROSE
    assert "{:.1f}% and {:.2f}%, one refused".format(*whole) in PROSE


def minutes(seconds: float) -> str:
    return "{} min {} s".format(*divmod(round(seconds), 60))


def test_the_readme_quotes_the_benchmark_and_the_laptop_timing_from_their_files():
    ours = json.loads((ROOT / "results/bench-10-epochs-cpu.json").read_text())["ours"]
    figure = f"**{ours['mean']:.2f} ± {ours['std']:.2f}%** ("
    assert figure + ", ".join(f"{a:.2f}" for a in ours["accuracies"]) + ")" in PROSE
    assert f"({ours['mean']:.2f} ± {ours['std']:.2f}% over three seeds in the benchmark)" in PROSE
    native = json.loads((ROOT / "results/bench-10-epochs-bf16-cpu.json").read_text())["ours"]
    figure = f"| {native['mean']:.2f} ± {native['std']:.2f}% ("
    assert figure + ", ".join(f"{a:.2f}" for a in native["accuracies"]) + ")" in PROSE
    medians = json.loads((ROOT / "results/laptop-cpu.json").read_text())["medians"]
    today, before = (medians[k]["AVX2 stand-in"] for k in medians)
    assert f"**{minutes(today)}** against {minutes(before)}, {today / before:.2f}×" in PROSE
    today, before = (medians[k]["native"] for k in medians)
    assert f"(bfloat16) {minutes(today)} against {minutes(before)}, {today / before:.2f}×" in PROSE


@needs_mnist
def test_user_style_writes_its_summary_where_asked(tmp_path, monkeypatch):
    out = tmp_path / "summary.json"
    monkeypatch.setattr("sys.argv", ["user_style.py", "--limit", "3", "--out", str(tmp_path),
                                     "--weights", str(ROOT / "weights/reader.pth"),
                                     "--json-out", str(out)])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "benchmarks/user_style.py"), run_name="__main__")
    summary = json.loads(out.read_text())
    assert done.value.code == 0 and summary["images"] == 3 and "cpu" in summary["machine"]
