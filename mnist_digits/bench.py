"""Recipes side by side in one process: time to accuracy, speed, memory, hardware use."""
import json
import statistics
from dataclasses import replace
from pathlib import Path

import torch

from .config import recipe
from .data import load_splits
from .ensemble import ensemble_accuracy
from .evaluate import evaluate
from .measure import PeakMemory, inference_speed, matmul_gflops, train_flops_per_image, warm_up
from .models import build_model
from .provenance import machine
from .train import train_model

THRESHOLDS = (99.0, 99.3, 99.5, 99.65)
PLAIN = dict(augment=0.0, bf16=False, channels_last=False, label_smoothing=0.0, weight_decay=0.0)
RECIPES = [  # (label, model, overrides): the references spelled out in full, as published
    ("reference MLP", "mlp", dict(PLAIN, epochs=20, batch_size=128, lr=1e-3, schedule="constant")),
    ("reference CNN", "cnn", dict(PLAIN, epochs=45, batch_size=128, lr=1e-3, schedule="constant")),
    ("pytorch/examples", "examples", dict(PLAIN, epochs=14, batch_size=64, lr=1.0,
                                          optimizer="adadelta", schedule="step")),
    ("ours, 1 epoch", "best", dict(epochs=1, batch_size=256, lr=6e-3, augment=0.5)),
    ("ours", "best", {}),
]


def add_arguments(p) -> None:
    p.add_argument("--quick", action="store_true", help="2,000 images, 1 epoch each (CI)")
    from .cli import seed_int
    p.add_argument("--seeds", type=seed_int, nargs="+", default=[0, 1, 2, 3],
                   help="seeds for 'ours'")
    p.add_argument("--data", default="data", help="MNIST folder (default data/)")
    p.add_argument("--max-epochs", type=int, default=0, help="cap the reference recipes' epochs")
    p.add_argument("--out", help="folder for bench-DEVICE.{md,json} "
                   "(default results/, or runs/ with --quick)")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="auto")
    p.set_defaults(run=run)


def run_recipe(label, cfg, data, device, gflops: dict) -> tuple[dict, torch.nn.Module]:
    """Train one recipe, watching test accuracy after every epoch (not timed)."""
    reached, curve = {}, []

    def on_epoch(epoch, model, history):
        acc = evaluate(model, data.test_x, data.test_y)["accuracy"]
        curve.append(acc)
        for t in THRESHOLDS:
            if acc >= t and t not in reached:
                reached[t] = history.seconds[-1]

    spare = build_model(cfg.model).to(device)
    warm_up(spare.to(memory_format=torch.channels_last) if cfg.channels_last else spare,
            data.train_x, cfg.channels_last)
    with PeakMemory(device) as mem:
        model, history = train_model(cfg, data, on_epoch=on_epoch, progress=False)
    flops = train_flops_per_image(model, cfg, data.train_x)
    seconds = history.seconds[-1]
    train_rate = len(data.train_x) * cfg.epochs / seconds
    row = {"recipe": label, "model": cfg.model, "seed": cfg.seed, "epochs": cfg.epochs,
           "final_accuracy": curve[-1], "accuracy_per_epoch": curve, "train_seconds": seconds,
           "seconds_per_epoch": seconds / cfg.epochs, "peak_memory_mib": mem.mib,
           "time_to": {str(t): reached.get(t) for t in THRESHOLDS},
           "train_images_per_s": train_rate, "train_gflops": flops * train_rate / 1e9,
           "fraction_of_fp32_matmul": flops * train_rate / 1e9 / gflops["float32"],
           "fraction_of_own_dtype_matmul":
               flops * train_rate / 1e9 / gflops["bfloat16" if cfg.bf16 else "float32"],
           **inference_speed(model, data.test_x, device, cfg.channels_last),
           "config": cfg.to_dict()}
    return row, model


def configs(args):
    """(label, Config) for every run: each reference once, ours once per seed."""
    for label, name, overrides in RECIPES:
        seeds = args.seeds if label == "ours" else [args.seeds[0]]
        for seed in seeds:
            cfg = recipe(name, fast=args.quick, seed=seed, **overrides)
            if args.quick:
                cfg = replace(cfg, epochs=1)
            elif args.max_epochs and not label.startswith("ours"):
                cfg = replace(cfg, epochs=min(cfg.epochs, args.max_epochs))
            yield label, cfg


def summarize_ours(rows, models, data) -> dict:
    """Mean, std and best over seeds; the ensemble, with or without test-time augmentation
    as the validation split decides (the test set is then measured for that choice)."""
    ours = [r for r in rows if r["recipe"] == "ours"]
    accs = [r["final_accuracy"] for r in ours]
    val = {tta: ensemble_accuracy(models, data.val_x, data.val_y, tta) for tta in (False, True)}
    tta = val[True] > val[False]
    return {"seeds": [r["seed"] for r in ours], "accuracies": accs,
            "mean": statistics.mean(accs), "std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
            "best": max(accs), "ensemble_val": {"plain": val[False], "tta": val[True]},
            "ensemble_tta": tta,
            "ensemble_accuracy": ensemble_accuracy(models, data.test_x, data.test_y, tta),
            "ensemble_train_seconds": sum(r["train_seconds"] for r in ours)}


def speedups(rows) -> dict:
    """How many times faster ours reaches each accuracy than each reference (median seeds)."""
    def median_time(label, t):
        times = [r["time_to"][t] for r in rows if r["recipe"] == label]
        return statistics.median(times) if times and None not in times else None

    out = {}
    for label in dict.fromkeys(r["recipe"] for r in rows if not r["recipe"].startswith("ours")):
        for t in map(str, THRESHOLDS):
            ours, ref = median_time("ours", t), median_time(label, t)
            out.setdefault(label, {})[t] = ref / ours if ours and ref else None
    return out


def fmt(value, spec=".1f", none="not reached"):
    return none if value is None else format(value, spec)


def markdown(result) -> str:
    head = ["recipe", "seed", "epochs", "test acc %", "s/epoch"] + [f"to {t}%" for t in THRESHOLDS]
    head += ["peak MiB", "img/s @256", "latency ms", "% fp32 matmul", "% matmul, own dtype"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in result["runs"]:
        cells = [r["recipe"], r["seed"], r["epochs"], f"{r['final_accuracy']:.2f}",
                 fmt(r["seconds_per_epoch"])]
        cells += [fmt(r["time_to"][str(t)]) + ("s" if r["time_to"][str(t)] else "")
                  for t in THRESHOLDS]
        cells += [f"{r['peak_memory_mib']:.0f}", f"{r['images_per_s']:,.0f}",
                  f"{r['latency_ms']:.2f}", f"{100 * r['fraction_of_fp32_matmul']:.1f}",
                  f"{100 * r['fraction_of_own_dtype_matmul']:.1f}"]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    o, m = result["ours"], result["machine"]
    how = "with" if o["ensemble_tta"] else "without"
    lines += ["", f"ours over seeds {o['seeds']}: {o['mean']:.2f} ± {o['std']:.2f}% (best "
              f"{o['best']:.2f}%); ensemble of all {len(o['seeds'])}, {how} test-time shifts "
              f"(chosen on validation: {o['ensemble_val']['plain']:.2f}% without, "
              f"{o['ensemble_val']['tta']:.2f}% with): {o['ensemble_accuracy']:.2f}% "
              f"after {o['ensemble_train_seconds']:.0f}s of training in all", "",
              "speed-up of ours (median over seeds) to the same test accuracy:", ""]
    for label, ratios in result["speedups"].items():
        lines.append(f"- vs {label}: " + ", ".join(
            f"{t}%: " + (f"{v:.1f}x" if v else "n/a") for t, v in ratios.items()))
    lines += ["", f"machine: {m['cpu']}, {m['cores']} cores, {m.get('gpu', 'no GPU')}; torch "
              f"{m['torch']}, torchvision {m['torchvision']}, Python {m['python']}; commit "
              f"{m['git_commit']}; fp32 matmul {result['matmul_gflops']['float32']:.0f} GFLOP/s, "
              f"bf16 {result['matmul_gflops']['bfloat16']:.0f} GFLOP/s"]
    return "\n".join(lines) + "\n"


def run(args) -> int:
    from .cli import pick_device
    device = pick_device(args.device)
    info = machine()  # before the runs: the commit that is being measured
    gflops = {"float32": matmul_gflops(device), "bfloat16": matmul_gflops(device, torch.bfloat16)}
    data = load_splits(recipe("best", fast=args.quick, data_dir=args.data)).to(device)
    rows, ours_models = [], []
    for label, cfg in configs(args):
        print(f"--- {label} (seed {cfg.seed}, {cfg.epochs} epochs)", flush=True)
        row, model = run_recipe(label, cfg, data, device, gflops)
        rows.append(row)
        if label == "ours":
            ours_models.append(model)
    result = {"machine": info, "device": device.type, "quick": args.quick,
              "args": {k: v for k, v in vars(args).items() if k != "run"},
              "matmul_gflops": gflops, "runs": rows,
              "ours": summarize_ours(rows, ours_models, data), "speedups": speedups(rows)}
    write(result, Path(args.out or ("runs" if args.quick else "results")), device.type, args.quick)
    return 0


def write(result, folder: Path, device: str, quick: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"bench-{device}{'-quick' if quick else ''}"
    text = markdown(result)
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1))
    print(text + f"wrote {stem}.md and {stem}.json")


PUBLISHED = [  # (name, test accuracy %)
    ("LeCun 1998: linear classifier", 88.0),
    ("LeCun 1998: 2-layer NN, 300 hidden units", 95.3),
    ("LeCun 1998: LeNet-5", 99.05),
    ("Ciresan 2011: large CNN", 99.65),
    ("reference projects: MLP", 97.45),
    ("reference projects: CNN, 45 epochs", 99.31),
]


def comparison_rows(measured: dict, bench_file="results/bench-cpu.json") -> list[dict]:
    """Published figures, this run's models, and (if present) the seeds of `bench`."""
    rows = [{"name": n, "accuracy": a, "ours": False} for n, a in PUBLISHED]
    rows += [{"name": f"this notebook: {n}", "accuracy": a, "ours": True}
             for n, a in measured.items()]
    path = Path(bench_file)
    if path.exists():
        o = json.loads(path.read_text())["ours"]
        n = len(o["seeds"])
        tta = " with test-time shifts" if o["ensemble_tta"] else ""
        rows += [{"name": f"bench: best CNN, mean ± std of {n} seeds", "accuracy": o["mean"],
                  "std": o["std"], "ours": True},
                 {"name": f"bench: ensemble of {n} best CNNs{tta}",
                  "accuracy": o["ensemble_accuracy"], "ours": True}]
    return sorted(rows, key=lambda r: r["accuracy"])
