"""From the starter CNN to the best CNN, one change at a time, judged on the validation split.

Each step keeps every change above it and adds one: the table the notebook's "Improving your
model" section shows. Same seed, same split, same machine for every step; the test set is not
touched. Precision is left to `auto`, as in the notebook.

    python benchmarks/ablation.py                  # about 12 minutes on a 2-core CPU
    python benchmarks/ablation.py --seeds 0 1 2    # mean ± std over seeds, three times as long
    python benchmarks/ablation.py --seeds 1 2 --append   # add seeds to the results file
    python benchmarks/ablation.py --steps 0 --seeds 0 1 2 --out results/starter-cpu.json
                                                   # only the starter CNN's recipe
    python benchmarks/ablation.py --steps 0 --epochs 8 --out OUT.json   # a shorter budget

Writes results/ablation-cpu.json and prints a Markdown table.
"""
import argparse
import json
import statistics
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from mnist_digits.data import load_splits  # noqa: E402
from mnist_digits.hardware import describe, pick_device, resolve  # noqa: E402
from mnist_digits.provenance import machine  # noqa: E402
from mnist_digits.recipes import (  # noqa: E402
    RECIPES,
    recipe,
    train_model,  # noqa: E402
)

BEST = RECIPES["best"]
STEPS = [  # (change, what it sets), each on top of all the rows above it
    ("starter CNN, its recipe", {}),
    ("+ stronger augmentation", dict(augment=BEST["augment"])),
    ("+ label smoothing", dict(label_smoothing=BEST["label_smoothing"])),
    ("+ best CNN's layers (deeper, wider, space-to-depth)", dict(model="best")),
    ("+ batch 256, its learning rate and weight decay",
     {k: BEST[k] for k in ("batch_size", "lr", "weight_decay")}),
]


def configs(seed: int, epochs: int = 0):
    """The cumulative Config of every step; the last one is exactly the best CNN's recipe
    (epochs > 0: every step trains for that many epochs instead)."""
    cfg = recipe("cnn", seed=seed, **({"epochs": epochs} if epochs else {}))
    for change, overrides in STEPS:
        cfg = replace(cfg, **overrides)
        yield change, cfg


def run(seeds, data, steps=None, epochs=0) -> list[dict]:
    rows = []
    for seed in seeds:
        for step, (change, cfg) in enumerate(configs(seed, epochs)):
            if steps is not None and step not in steps:
                continue
            print(f"--- step {step}: {change} (seed {seed})", flush=True)
            _, history = train_model(cfg, data, progress=False)
            rows.append({"step": step, "change": change, "seed": seed,
                         "val_accuracy": history.val_acc[-1], "val_loss": history.val_loss[-1],
                         "train_seconds": history.seconds[-1],
                         "config": resolve(cfg, data.train_x.device).to_dict()})
    return rows


def summarize(rows) -> list[dict]:
    steps = sorted({r["step"] for r in rows})
    out = []
    for s in steps:
        rs = [r for r in rows if r["step"] == s]
        accs = [r["val_accuracy"] for r in rs]
        out.append({"step": s, "change": rs[0]["change"], "val_accuracy": statistics.mean(accs),
                    "val_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                    "train_seconds": statistics.median(r["train_seconds"] for r in rs),
                    "epochs": rs[0]["config"]["epochs"], "model": rs[0]["config"]["model"]})
    return out


def markdown(result) -> str:
    n = result["val_size"]
    lines = [f"| step | change | validation accuracy | validation errors of {n:,} | training |",
             "|---|---|---|---|---|"]
    for s in result["steps"]:
        errors = round(n * (100 - s["val_accuracy"]) / 100)
        std = f" ± {s['val_std']:.2f}" if s["val_std"] else ""
        lines.append(f"| {s['step']} | {s['change']} | {s['val_accuracy']:.2f}%{std} | {errors} | "
                     f"{s['train_seconds']:.0f} s |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--out", default=str(ROOT / "results" / "ablation-cpu.json"))
    p.add_argument("--append", action="store_true", help="keep the runs already in --out")
    p.add_argument("--steps", type=int, nargs="+", help="run only these steps (default: all)")
    p.add_argument("--epochs", type=int, default=0,
                   help="train every step for this many epochs (default: its recipe's)")
    args = p.parse_args()
    old = json.loads(Path(args.out).read_text())["runs"] if args.append else []
    device = pick_device("auto")
    print(describe(recipe("best"), device), flush=True)
    info = machine()
    data = load_splits(recipe("cnn")).to(device)
    rows = old + run(args.seeds, data, args.steps, args.epochs)
    seeds = sorted({r["seed"] for r in rows})
    result = {"machine": info, "seeds": seeds, "val_size": len(data.val_y), "runs": rows,
              "steps": summarize(rows)}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(markdown(result) + f"wrote {args.out}")


if __name__ == "__main__":
    main()
