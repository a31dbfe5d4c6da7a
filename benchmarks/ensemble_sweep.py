"""Candidate ensemble members, judged on the validation split only: trains each job, keeps
its validation probabilities, then scores every ensemble of them, alone and averaged by
family (how many members of each architecture; a single model counts as an ensemble of one).

Three seeds of one net make mostly the same mistakes, so the candidates differ in
architecture, width, or the view of the digit they see (KINDS). Log and summary:
results/ensemble-sweep-cpu.jsonl and results/ensemble-sweep-cpu.txt.

Run: python benchmarks/ensemble_sweep.py OUT.jsonl [--jobs NAME ...]
                                         [--import NAME=CHECKPOINT ...] [--budget 900]
"""
import argparse
import collections
import itertools
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arch_sweep import VARIANTS  # noqa: E402

from mnist_digits import models  # noqa: E402
from mnist_digits.checkpoints import load_checkpoint  # noqa: E402
from mnist_digits.config import recipe  # noqa: E402
from mnist_digits.data import load_splits  # noqa: E402
from mnist_digits.evaluate import predict_logits  # noqa: E402
from mnist_digits.train import train_model  # noqa: E402

KINDS = {**VARIANTS,  # the nets of arch_sweep, and best behind a fixed view of the input
         "deskew": lambda: list(models.DeskewCNN().children()),
         "width16": lambda: list(models.WidthNormCNN().children())}

JOBS = {  # name -> (architecture in KINDS, overrides of the "best" recipe)
    **{f"stem5-s{s}": ("stem5", dict(seed=s, epochs=12)) for s in range(3)},
    "previous-s0": ("previous", dict(epochs=9, batch_size=128, lr=4e-3)),
    **{f"wide-s{s}": ("s2dw96", dict(seed=s)) for s in range(2)},
    **{f"deskew-s{s}": ("deskew", dict(seed=s)) for s in range(3)},
    **{f"width16-s{s}": ("width16", dict(seed=s)) for s in range(3)},
}
POOL = Path("runs/ensemble-pool")  # validation probabilities, one file per member
FAMILIES = ("best", "stem5", "previous", "wide", "deskew", "width16")  # name prefixes


def keep(name: str, model, data) -> None:
    POOL.mkdir(parents=True, exist_ok=True)
    torch.save(predict_logits(model, data.val_x).softmax(1), POOL / f"{name}.pt")


def run_job(name: str, data) -> dict:
    kind, overrides = JOBS[name]
    models.MODELS["sweep"] = lambda: nn.Sequential(*KINDS[kind]())
    cfg = replace(recipe("best"), model="sweep", **overrides)
    model, history = train_model(cfg, data, progress=False)
    keep(name, model, data)
    return dict(name=name, kind=kind, **overrides, val=history.val_acc[-1],
                train_seconds=history.seconds[-1])


def import_checkpoint(spec: str, data) -> dict:
    """NAME=PATH: a checkpoint written by `train` joins the pool with its own timings."""
    name, path = spec.split("=", 1)
    model, meta = load_checkpoint(path)
    keep(name, model, data)
    return dict(name=name, kind=meta["config"]["model"], checkpoint=path, seed=meta["seed"],
                val=meta["history"]["val_acc"][-1], train_seconds=meta["history"]["seconds"][-1])


def ensembles(rows: list, y) -> list:
    """(errors, errors all members share, seconds, names) for every ensemble, single models
    included."""
    probs = {r["name"]: torch.load(POOL / f"{r['name']}.pt") for r in rows}
    out = []
    for n in range(1, len(rows) + 1):
        for combo in itertools.combinations([r["name"] for r in rows], n):
            p = torch.stack([probs[m] for m in combo])
            shared = (p.argmax(2) != y).all(0).sum().item()
            errors = (p.mean(0).argmax(1) != y).sum().item()
            seconds = sum(r["train_seconds"] for r in rows if r["name"] in combo)
            out.append((errors, shared, seconds, combo))
    return out


def report(rows: list, y, budget: float) -> None:
    n = len(y)
    print(f"members (validation, {n} images):")
    for r in rows:
        print(f"  {r['name']:12s} {r['val']:.2f}%  {r['train_seconds']:4.0f} s")
    fits = [e for e in ensembles(rows, y) if e[2] <= budget]
    print(f"\nbest ensembles within {budget:.0f} s of training (errors, shared by all):")
    for errors, shared, seconds, combo in sorted(fits)[:10]:
        print(f"  {100 - 100 * errors / n:.2f}%  {errors:2d} ({shared:2d})  {seconds:4.0f} s  "
              + " + ".join(combo))
    family = collections.defaultdict(list)
    for e in fits:
        family[tuple(sum(m.startswith(f + "-") for m in e[3]) for f in FAMILIES)].append(e)
    print(f"\nmean over every ensemble of a family ({', '.join(FAMILIES)}):")
    for key, group in sorted(family.items(), key=lambda kv: statistics.mean(e[0] for e in kv[1])):
        errors = statistics.mean(e[0] for e in group)
        print(f"  {key}  {100 - 100 * errors / n:.2f}%  {errors:5.2f} errors  "
              f"({statistics.mean(e[1] for e in group):5.2f} shared)  n={len(group)}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--jobs", nargs="*", default=list(JOBS), choices=list(JOBS))
    p.add_argument("--import", dest="imports", nargs="*", default=[], metavar="NAME=PATH",
                   help="add checkpoints written by `python -m mnist_digits train`")
    p.add_argument("--budget", type=float, default=900.0, help="seconds of training in all")
    args = p.parse_args()
    data = load_splits(recipe("best"))
    done = [json.loads(line) for line in open(args.out)] if Path(args.out).exists() else []
    with open(args.out, "a") as f:
        for spec in args.imports:
            done.append(import_checkpoint(spec, data))
            print(json.dumps(done[-1]), file=f, flush=True)
        for name in [j for j in args.jobs if j not in {r["name"] for r in done}]:
            start = time.perf_counter()
            done.append(run_job(name, data))
            print(json.dumps(done[-1]), file=f, flush=True)
            print(done[-1], f"{time.perf_counter() - start:.0f}s", flush=True)
    missing = [r["name"] for r in done if not (POOL / f"{r['name']}.pt").exists()]
    if missing:
        sys.exit(f"error: no validation probabilities in {POOL}/ for {', '.join(missing)}: "
                 "they are kept only where the job ran; train them again into a new log "
                 "(or --import their checkpoints)")
    report(done, data.val_y, args.budget)


if __name__ == "__main__":
    main()
