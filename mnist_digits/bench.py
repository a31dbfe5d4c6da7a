"""Recipes side by side in one process: time to accuracy, speed, memory, hardware use."""
import json
import statistics
from dataclasses import replace
from pathlib import Path

import torch

from .config import recipe
from .data import load_splits
from .ensemble import TTA, ensemble_accuracy
from .evaluate import evaluate
from .measure import PeakMemory, inference_speed, matmul_gflops, train_flops_per_image, warm_up
from .models import build_model
from .provenance import machine
from .report import THRESHOLDS, markdown
from .train import train_model

PLAIN = dict(augment=0.0, bf16=False, channels_last=False, label_smoothing=0.0, weight_decay=0.0)
RECIPES = [  # (label, model, overrides): the references spelled out in full, as published
    ("reference MLP", "mlp", dict(PLAIN, epochs=20, batch_size=128, lr=1e-3, schedule="constant")),
    ("reference CNN", "cnn", dict(PLAIN, epochs=45, batch_size=128, lr=1e-3, schedule="constant")),
    ("pytorch/examples", "examples", dict(PLAIN, epochs=14, batch_size=64, lr=1.0,
                                          optimizer="adadelta", schedule="step")),
    ("ours, 1 epoch", "best", dict(epochs=1, augment=0.5)),
    ("ours", "best", {}),
]


def add_arguments(p) -> None:
    p.add_argument("--quick", action="store_true", help="2,000 images, 1 epoch each (CI)")
    from .cli import seed_int
    p.add_argument("--seeds", type=seed_int, nargs="+", default=[0, 1, 2],
                   help="seeds for both of our recipes")
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
        seeds = args.seeds if label.startswith("ours") else [args.seeds[0]]
        for seed in seeds:
            cfg = recipe(name, fast=args.quick, seed=seed, **overrides)
            if args.quick:
                cfg = replace(cfg, epochs=1)
            elif args.max_epochs and not label.startswith("ours"):
                cfg = replace(cfg, epochs=min(cfg.epochs, args.max_epochs))
            yield label, cfg


def median_time(rows, label: str, t: str):
    """Median seconds over seeds for `label` to reach t% (None if any seed did not)."""
    times = [r["time_to"][t] for r in rows if r["recipe"] == label]
    return statistics.median(times) if times and None not in times else None


def summarize_ours(rows, models, data) -> dict:
    """Mean, std and best over seeds; the ensemble, with or without test-time augmentation
    as the validation split decides (the test set is then measured for that choice)."""
    ours = [r for r in rows if r["recipe"] == "ours"]
    accs = [r["final_accuracy"] for r in ours]
    val = {t or "none": ensemble_accuracy(models, data.val_x, data.val_y, t) for t in TTA}
    tta = max(TTA, key=lambda t: val[t or "none"])  # a tie goes to the simpler (earlier) one
    return {"seeds": [r["seed"] for r in ours], "accuracies": accs,
            "mean": statistics.mean(accs), "std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
            "best": max(accs), "max_train_seconds": max(r["train_seconds"] for r in ours),
            "ensemble_val": val, "ensemble_tta": tta,
            "ensemble_accuracy": ensemble_accuracy(models, data.test_x, data.test_y, tta),
            "ensemble_train_seconds": sum(r["train_seconds"] for r in ours)}


def summarize_fast(rows, label: str = "ours, 1 epoch") -> dict:
    """The one-epoch recipe over its seeds: accuracies and median time to 99.0%."""
    fast = [r for r in rows if r["recipe"] == label]
    return {"seeds": [r["seed"] for r in fast],
            "accuracies": [r["final_accuracy"] for r in fast],
            "median_train_seconds": statistics.median(r["train_seconds"] for r in fast),
            "median_time_to_99.0": median_time(rows, label, "99.0")}


def speedups(rows) -> dict:
    """How many times faster ours reaches each accuracy than each reference: medians over
    seeds, and for each accuracy the faster of our two recipes."""
    ours = sorted({r["recipe"] for r in rows if r["recipe"].startswith("ours")})
    out = {}
    for label in dict.fromkeys(r["recipe"] for r in rows if not r["recipe"].startswith("ours")):
        for t in map(str, THRESHOLDS):
            mine = [x for x in (median_time(rows, o, t) for o in ours) if x]
            ref = median_time(rows, label, t)
            out.setdefault(label, {})[t] = ref / min(mine) if mine and ref else None
    return out


def hardware_rates(device) -> dict:
    """GFLOP/s of a large matmul; measured at the start and the end, since a shared
    machine's speed can drift during a half-hour run."""
    return {"float32": matmul_gflops(device), "bfloat16": matmul_gflops(device, torch.bfloat16)}


def run(args) -> int:
    from .cli import pick_device
    device = pick_device(args.device)
    info = machine()  # before the runs: the commit that is being measured
    gflops = hardware_rates(device)
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
              "matmul_gflops": gflops, "matmul_gflops_at_end": hardware_rates(device),
              "runs": rows, "ours": summarize_ours(rows, ours_models, data),
              "ours_1_epoch": summarize_fast(rows), "speedups": speedups(rows)}
    write(result, Path(args.out or ("runs" if args.quick else "results")), device.type, args.quick)
    return 0


def write(result, folder: Path, device: str, quick: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"bench-{device}{'-quick' if quick else ''}"
    text = markdown(result)
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1))
    print(text + f"wrote {stem}.md and {stem}.json")


