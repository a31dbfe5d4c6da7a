import json

from mnist_digits.report import comparison_rows


def bench_json(path, ours=None, ensembles=()):
    path.write_text(json.dumps({"ours": ours, "ensembles": list(ensembles)}))
    return str(path)


def test_comparison_adds_the_benchs_seeds_in_order(tmp_path):
    full = bench_json(tmp_path / "a.json", ours={
        "seeds": [0, 1, 2], "mean": 99.69, "std": 0.05, "ensemble_tta": "warps",
        "ensemble_accuracy": 99.71})
    rows = comparison_rows({"best CNN": 99.65}, full)
    names = {r["name"]: r["accuracy"] for r in rows}
    assert names["bench: ensemble of 3 best CNNs with test-time warps"] == 99.71
    assert names["bench: best CNN, mean ± std of 3 seeds"] == 99.69
    assert names["this notebook: best CNN"] == 99.65
    assert [r["accuracy"] for r in rows] == sorted(r["accuracy"] for r in rows)
    assert all(r["ours"] == (not r["name"].startswith(("LeCun", "Ciresan", "reference")))
               for r in rows)


def test_comparison_without_a_bench_file_has_only_published_and_measured(tmp_path):
    rows = comparison_rows({"MLP": 97.9}, tmp_path / "missing.json")
    assert not any(r["name"].startswith("bench") for r in rows) and len(rows) == 7
