"""Recipes side by side in one process: time to accuracy, speed, memory, hardware use."""
import json
from dataclasses import replace
from pathlib import Path

import torch

from ..data import load_splits
from ..hardware import describe, pick_device, resolve
from ..lesson import evaluate, memory_format
from ..provenance import machine
from ..recipes import build_model, recipe, train_model
from .measure import PeakMemory, inference_speed, matmul_gflops, train_flops_per_image, warm_up
from .references import MODELS, RECIPES
from .tables import THRESHOLDS, markdown, speedups, summarize_fast, summarize_ours

RUNS = [  # (label, recipe in references.RECIPES): the references as published, then ours
    ("reference MLP", "reference-mlp"),
    ("reference CNN", "reference-cnn"),
    ("pytorch/examples", "pytorch-examples"),
    ("ours, 1 epoch", "best-1-epoch"),
    ("ours", "best"),
]


def run_recipe(label, cfg, data, device, gflops: dict) -> dict:
    """Train one recipe, watching test accuracy after every epoch (not timed)."""
    reached, curve = {}, []
    cfg = resolve(cfg, device)  # the precision and layout it runs in, recorded below

    def on_epoch(epoch, model, history):
        acc = evaluate(model, data.test_x, data.test_y)["accuracy"]
        curve.append(acc)
        for t in THRESHOLDS:
            if acc >= t and t not in reached:
                reached[t] = history.seconds[-1]

    spare = build_model(cfg.model, MODELS).to(device)
    warm_up(spare.to(memory_format=memory_format(cfg.layout)), data.train_x, cfg.layout)
    with PeakMemory(device) as mem:
        model, history = train_model(cfg, data, MODELS, on_epoch=on_epoch, progress=False)
    flops = train_flops_per_image(model, cfg, data.train_x)
    own = "bfloat16" if cfg.precision == "bf16" else "float32"
    seconds = history.seconds[-1]
    train_rate = len(data.train_x) * cfg.epochs / seconds
    return {"recipe": label, "model": cfg.model, "seed": cfg.seed, "epochs": cfg.epochs,
            "precision": cfg.precision, "layout": cfg.layout,
            "final_accuracy": curve[-1], "accuracy_per_epoch": curve,
            "val_accuracy": history.val_acc[-1], "train_seconds": seconds,
            "seconds_per_epoch": seconds / cfg.epochs, "peak_memory_mib": mem.mib,
            "time_to": {str(t): reached.get(t) for t in THRESHOLDS},
            "train_images_per_s": train_rate, "train_gflops": flops * train_rate / 1e9,
            "fraction_of_fp32_matmul": flops * train_rate / 1e9 / gflops["float32"],
            "fraction_of_own_dtype_matmul":
                flops * train_rate / 1e9 / gflops[own],
            **inference_speed(model, data.test_x, device, cfg.layout),
            "config": cfg.to_dict()}


def configs(args):
    """(label, Config) for every run: each reference once, ours once per seed."""
    for label, name in RUNS:
        if args.only and label not in args.only:
            continue
        seeds = args.seeds if label.startswith("ours") else [args.seeds[0]]
        for seed in seeds:
            cfg = recipe(name, args.fast, RECIPES, seed=seed)  # fast: FAST_RUN's one epoch
            if args.epochs and label == "ours" and not args.fast:
                cfg = replace(cfg, epochs=args.epochs)
            elif args.max_epochs and not label.startswith("ours"):
                cfg = replace(cfg, epochs=min(cfg.epochs, args.max_epochs))
            yield label, cfg


def hardware_rates(device) -> dict:
    """GFLOP/s of a large matmul; measured at the start and the end, since a shared
    machine's speed can drift during a half-hour run."""
    return {"float32": matmul_gflops(device), "bfloat16": matmul_gflops(device, torch.bfloat16)}


def run(args) -> int:
    device = pick_device(args.device)
    print(describe(recipe("best"), device), flush=True)
    info = machine()  # before the runs: the commit that is being measured
    gflops = hardware_rates(device)
    data = load_splits(recipe("best", fast=args.fast, data_dir=args.data)).to(device)
    rows = []
    for label, cfg in configs(args):
        print(f"--- {label} (seed {cfg.seed}, {cfg.epochs} epochs)", flush=True)
        rows.append(run_recipe(label, cfg, data, device, gflops))
    result = {"machine": info, "device": device.type, "fast": args.fast,
              "args": {k: v for k, v in vars(args).items() if k != "run"},
              "matmul_gflops": gflops, "matmul_gflops_at_end": hardware_rates(device),
              "runs": rows, "ours": summarize_ours(rows), "ours_1_epoch": summarize_fast(rows),
              "speedups": speedups(rows)}
    write(result, out_folder(args), device.type, args.fast)
    return 0


def out_folder(args) -> Path:
    """--out, else results/ for the published benchmark; a fast run or a budget study
    (--fast, --epochs) goes to runs/, never over the published figures."""
    return Path(args.out or ("runs" if args.fast or args.epochs else "results"))


def write(result, folder: Path, device: str, fast: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"bench-{device}{'-fast' if fast else ''}"
    text = markdown(result)
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1))
    print(text + f"wrote {stem}.md and {stem}.json")


