"""Tables from the benchmark's results: its Markdown, and the notebook's comparison with
published figures."""
import json
import statistics
from pathlib import Path

THRESHOLDS = (99.0, 99.3, 99.5, 99.65)
PUBLISHED = [  # (name, test accuracy %)
    ("LeCun 1998: linear classifier", 88.0),
    ("LeCun 1998: 2-layer NN, 300 hidden units", 95.3),
    ("LeCun 1998: LeNet-5", 99.05),
    ("Ciresan 2011: large CNN", 99.65),
    ("reference projects: MLP", 97.45),
    ("reference projects: CNN, 45 epochs", 99.31),
]


def fmt(value, spec=".1f", none="not reached"):
    return none if value is None else format(value, spec)


def secs(value) -> str:
    return "not reached" if value is None else f"{value:.1f}s"


def run_table(runs) -> list[str]:
    head = ["recipe", "seed", "epochs", "test acc %", "s/epoch"] + [f"to {t}%" for t in THRESHOLDS]
    head += ["peak MiB", "img/s @256", "latency ms", "% fp32 matmul", "% matmul, own dtype"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        cells = [r["recipe"], r["seed"], r["epochs"], f"{r['final_accuracy']:.2f}",
                 fmt(r["seconds_per_epoch"])]
        cells += [secs(r["time_to"][str(t)]) for t in THRESHOLDS]
        cells += [f"{r['peak_memory_mib']:.0f}", f"{r['images_per_s']:,.0f}",
                  f"{r['latency_ms']:.2f}", f"{100 * r['fraction_of_fp32_matmul']:.1f}",
                  f"{100 * r['fraction_of_own_dtype_matmul']:.1f}"]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return lines


HOW = {None: "without test-time augmentation", "shifts": "with 1-pixel shifts",
       "warps": "with random warps"}


def ensemble_line(e: dict) -> str:
    val = ", ".join(f"{v:.2f}% {k}" for k, v in e["val"].items())
    return (f"{' + '.join(e['members'])}, {HOW[e['tta']]} (chosen on validation: {val}): "
            f"**{e['accuracy']:.2f}%** after {e['train_seconds']:.0f}s of training in all")


def all_data_lines(a: dict | None) -> list[str]:
    """Ours refit on all 60k: single models, then each ensemble of consecutive seeds."""
    if not a:
        return []
    lines = [f"ours refit on all 60k, over seeds {a['seeds']}: {a['mean']:.2f} ± {a['std']:.2f}%"
             f" ({', '.join(f'{x:.2f}' for x in a['accuracies'])})", ""]
    lines += [f"- ensemble of seeds {e['seeds']}, {HOW[e['tta']]} (chosen beforehand on "
              f"validation): **{e['accuracy']:.2f}%** after {e['train_seconds']:.0f}s of "
              f"training in all" for e in a["ensembles"]]
    return lines + ["", f"all-60k ensembles: median {a['median']:.2f}%", ""]


def summary(result) -> list[str]:
    o, f, lines = result["ours"], result["ours_1_epoch"], []
    if o:
        lines += [f"ours over seeds {o['seeds']}: {o['mean']:.2f} ± {o['std']:.2f}% (best "
                  f"{o['best']:.2f}%), at most {o['max_train_seconds']:.0f}s of training each", ""]
    if o and "ensemble_accuracy" in o:
        lines += ["ensemble of all " + ensemble_line(
            {"members": [f"seed {s}" for s in o["seeds"]], "val": o["ensemble_val"],
             "tta": o["ensemble_tta"], "accuracy": o["ensemble_accuracy"],
             "train_seconds": o["ensemble_train_seconds"]}), ""]
    for e in result.get("ensembles", []):
        lines += ["- ensemble " + ensemble_line(e)]
    if result.get("ensembles"):
        accs = [e["accuracy"] for e in result["ensembles"]]
        lines += ["", f"ensembles over seeds: median {statistics.median(accs):.2f}%, "
                  f"mean {statistics.mean(accs):.2f}%", ""]
    lines += all_data_lines(result.get("all_data"))
    if f:
        accs = ", ".join(f"{a:.2f}" for a in f["accuracies"])
        lines += [f"ours, 1 epoch, over seeds {f['seeds']}: {accs}%; median "
                  f"{f['median_train_seconds']:.1f}s of training, median time to 99.0%: "
                  f"{secs(f['median_time_to_99.0'])}"]
    return lines


def markdown(result) -> str:
    lines = run_table(result["runs"]) + [""] + summary(result)
    if result["speedups"]:
        lines += ["", "speed-up of ours (median over seeds, the fastest of our recipes) to the "
                  "same test accuracy:", ""]
    for label, ratios in result["speedups"].items():
        lines.append(f"- vs {label}: " + ", ".join(
            f"{t}%: " + (f"{v:.1f}x" if v else "n/a") for t, v in ratios.items()))
    m, start, end = result["machine"], result["matmul_gflops"], result["matmul_gflops_at_end"]
    lines += ["", f"machine: {m['cpu']}, {m['cores']} cores, {m.get('gpu', 'no GPU')}; torch "
              f"{m['torch']}, torchvision {m['torchvision']}, Python {m['python']}; commit "
              f"{m['git_commit']}; matmul GFLOP/s at start and end: fp32 {start['float32']:.0f}"
              f" and {end['float32']:.0f}, bf16 {start['bfloat16']:.0f} and {end['bfloat16']:.0f}"]
    return "\n".join(lines) + "\n"


def comparison_rows(measured: dict, bench_file="results/bench-cpu.json") -> list[dict]:
    """Published figures, this run's models, and (if present) the seeds of `bench`."""
    rows = [{"name": n, "accuracy": a, "ours": False} for n, a in PUBLISHED]
    rows += [{"name": f"this notebook: {n}", "accuracy": a, "ours": True}
             for n, a in measured.items()]
    path = Path(bench_file)
    if path.exists():
        o = json.loads(path.read_text())["ours"]
        n = len(o["seeds"])
        tta = {"shifts": " with test-time shifts", "warps": " with test-time warps"}.get(
            o["ensemble_tta"], "")
        rows += [{"name": f"bench: best CNN, mean ± std of {n} seeds", "accuracy": o["mean"],
                  "std": o["std"], "ours": True},
                 {"name": f"bench: ensemble of {n} best CNNs{tta}",
                  "accuracy": o["ensemble_accuracy"], "ours": True}]
    return sorted(rows, key=lambda r: r["accuracy"])
