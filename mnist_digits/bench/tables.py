"""The benchmark's tables: headline figures over seeds, speed-ups, and its Markdown."""
import statistics

THRESHOLDS = (99.0, 99.3, 99.5, 99.65)


def secs(value) -> str:
    return "not reached" if value is None else f"{value:.1f}s"


def run_table(runs) -> list[str]:
    head = ["recipe", "seed", "epochs", "precision", "test acc %", "s/epoch"]
    head += [f"to {t}%" for t in THRESHOLDS]
    head += ["peak MiB", "img/s @256", "latency ms", "% fp32 matmul", "% matmul, own dtype"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        precision = r.get("precision") or ("bf16" if r["config"].get("bf16") else "fp32")
        cells = [r["recipe"], r["seed"], r["epochs"], precision, f"{r['final_accuracy']:.2f}",
                 f"{r['seconds_per_epoch']:.1f}"]
        cells += [secs(r["time_to"][str(t)]) for t in THRESHOLDS]
        cells += [f"{r['peak_memory_mib']:.0f}", f"{r['images_per_s']:,.0f}",
                  f"{r['latency_ms']:.2f}", f"{100 * r['fraction_of_fp32_matmul']:.1f}",
                  f"{100 * r['fraction_of_own_dtype_matmul']:.1f}"]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return lines


def median_time(rows, label: str, t: str):
    """Median seconds over seeds for `label` to reach t% (None if any seed did not)."""
    times = [r["time_to"][t] for r in rows if r["recipe"] == label]
    return statistics.median(times) if times and None not in times else None


def summarize_ours(rows) -> dict | None:
    """Mean ± std and best over the seeds of ours."""
    ours = [r for r in rows if r["recipe"] == "ours"]
    if not ours:
        return None
    accs = [r["final_accuracy"] for r in ours]
    return {"seeds": [r["seed"] for r in ours], "accuracies": accs, "mean": statistics.mean(accs),
            "std": statistics.stdev(accs) if len(accs) > 1 else 0.0, "best": max(accs),
            "max_train_seconds": max(r["train_seconds"] for r in ours)}


def summarize_fast(rows, label: str = "ours, 1 epoch") -> dict | None:
    """The one-epoch recipe over its seeds: accuracies and median time to 99.0%."""
    fast = [r for r in rows if r["recipe"] == label]
    if not fast:
        return None
    return {"seeds": [r["seed"] for r in fast],
            "accuracies": [r["final_accuracy"] for r in fast],
            "median_train_seconds": statistics.median(r["train_seconds"] for r in fast),
            "median_time_to_99.0": median_time(rows, label, "99.0")}


def speedups(rows) -> dict:
    """How many times faster ours reaches each accuracy than each reference: medians over
    seeds, and for each accuracy the fastest of our recipes."""
    ours = sorted({r["recipe"] for r in rows if r["recipe"].startswith("ours")})
    out = {}
    for label in dict.fromkeys(r["recipe"] for r in rows if not r["recipe"].startswith("ours")):
        for t in map(str, THRESHOLDS):
            mine = [x for x in (median_time(rows, o, t) for o in ours) if x]
            ref = median_time(rows, label, t)
            out.setdefault(label, {})[t] = ref / min(mine) if mine and ref else None
    return out


def summary(result) -> list[str]:
    o, f, lines = result["ours"], result["ours_1_epoch"], []
    if o:
        lines += [f"ours over seeds {o['seeds']}: {o['mean']:.2f} ± {o['std']:.2f}% (best "
                  f"{o['best']:.2f}%), at most {o['max_train_seconds']:.0f}s of training each", ""]
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
