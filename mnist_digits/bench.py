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
    ("ours, wide", "wide", {}),  # opt-in (--only), for the ensembles: 25 more minutes on a CPU
    ("ours, deskewed", "deskew", {}),  # opt-in: 15 more minutes
    ("ours, width-normalised", "widthnorm", {}),  # opt-in: 15 more minutes
]
OPT_IN = {"ours, wide", "ours, deskewed", "ours, width-normalised"}
VIEWS = ("ours", "ours, deskewed", "ours, width-normalised")  # one net, three views of a digit
GROUPS = [("ours, wide",), ("ours", "ours, wide"), VIEWS]  # per seed, those whose recipes ran
# are candidates, and the bench picks one on validation (benchmarks/ensemble_sweep.py)


def add_arguments(p) -> None:
    p.add_argument("--quick", action="store_true", help="2,000 images, 1 epoch each (CI)")
    from .cli import seed_int
    p.add_argument("--seeds", type=seed_int, nargs="+", default=[0, 1, 2],
                   help="seeds for each of our recipes")
    p.add_argument("--data", default="data", help="MNIST folder (default data/)")
    p.add_argument("--only", nargs="+", metavar="LABEL", choices=[r[0] for r in RECIPES],
                   help="run only these recipes, e.g. --only ours 'ours, deskewed' "
                   "'ours, width-normalised'")
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
        if (label not in args.only) if args.only else (label in OPT_IN):
            continue
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


def pick(groups, data) -> dict:
    """Among groups of (row, model) pairs and the test-time augmentations, the choice best on
    the validation split (a tie goes to the earlier, simpler one); the test set is then
    measured for that choice only."""
    val, choices = {}, []
    for group in groups:
        models = [m for _, m in group]
        name = " + ".join(r["recipe"] for r, _ in group)
        for t in TTA:
            key = (t or "none") if len(groups) == 1 else f"{name}, {t or 'none'}"
            val[key] = ensemble_accuracy(models, data.val_x, data.val_y, t)
            choices.append((val[key], group, t))
    _, group, tta = max(choices, key=lambda c: c[0])
    return {"members": [f"{r['recipe']} (seed {r['seed']})" for r, _ in group], "val": val,
            "tta": tta, "accuracy": ensemble_accuracy([m for _, m in group], data.test_x,
                                                      data.test_y, tta),
            "train_seconds": sum(r["train_seconds"] for r, _ in group)}


def summarize_ours(trained, data) -> dict | None:
    """Mean, std and best over seeds of ours; the ensemble of all of them, if several."""
    ours = [(r, m) for r, m in trained if r["recipe"] == "ours"]
    if not ours:
        return None
    accs = [r["final_accuracy"] for r, _ in ours]
    out = {"seeds": [r["seed"] for r, _ in ours], "accuracies": accs,
           "mean": statistics.mean(accs), "std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
           "best": max(accs), "max_train_seconds": max(r["train_seconds"] for r, _ in ours)}
    if len(ours) > 1:
        e = pick([ours], data)
        out.update(ensemble_val=e["val"], ensemble_tta=e["tta"], ensemble_accuracy=e["accuracy"],
                   ensemble_train_seconds=e["train_seconds"])
    return out


def summarize_seeds(trained, data) -> list[dict]:
    """For each seed, the best on validation of GROUPS (those whose recipes all ran)."""
    out = []
    for seed in dict.fromkeys(r["seed"] for r, _ in trained):
        mine = {r["recipe"]: (r, m) for r, m in trained if r["seed"] == seed}
        groups = [[mine[label] for label in g] for g in GROUPS if set(g) <= set(mine)]
        if groups:
            out.append({"seed": seed, **pick(groups, data)})
    return out


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
    trained = []  # (row, model)
    for label, cfg in configs(args):
        print(f"--- {label} (seed {cfg.seed}, {cfg.epochs} epochs)", flush=True)
        trained.append(run_recipe(label, cfg, data, device, gflops))
    rows = [r for r, _ in trained]
    result = {"machine": info, "device": device.type, "quick": args.quick,
              "args": {k: v for k, v in vars(args).items() if k != "run"},
              "matmul_gflops": gflops, "matmul_gflops_at_end": hardware_rates(device),
              "runs": rows, "ours": summarize_ours(trained, data),
              "ensembles": summarize_seeds(trained, data),
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


