"""Recipe search, judged on the validation split (test accuracy is logged, never used to choose).

Each job is a recipe from mnist_digits.config plus BASE[model] plus its overrides, as the
recipes stood when the search ran; the logs are results/sweep-cuda.jsonl (GRID, on an H100)
and results/sweep-cpu.jsonl (CPU_GRID, on the 2-core CPU; wall time matters there).

Run: python benchmarks/sweep.py OUT.jsonl [--cpu-grid]   (minutes on a GPU, hours on a CPU)
"""
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # importable from a checkout

from mnist_digits.config import recipe  # noqa: E402
from mnist_digits.data import load_splits  # noqa: E402
from mnist_digits.evaluate import evaluate  # noqa: E402
from mnist_digits.train import train_model  # noqa: E402

BASE = {"best": dict(epochs=8), "cnn": dict(epochs=8, augment=0.0, bf16=False)}
GRID = [("best", g) for g in [
    dict(), dict(epochs=6), dict(epochs=10), dict(epochs=12), dict(augment=0.5),
    dict(augment=1.5), dict(label_smoothing=0.0), dict(lr=2e-3), dict(lr=8e-3),
    dict(batch_size=256, lr=6e-3), dict(weight_decay=0.0), dict(weight_decay=5e-4)]]
CPU_GRID = [("cnn", g) for g in [
    dict(), dict(augment=0.5, epochs=12, bf16=True), dict(augment=0.5, epochs=15, bf16=True),
    dict(epochs=15, bf16=True, label_smoothing=0.1),
    dict(augment=0.25, epochs=12, bf16=True, batch_size=64)]]
CPU_GRID += [("best", dict(epochs=1, **g)) for g in [
    dict(), dict(augment=0.0), dict(batch_size=256, lr=6e-3, augment=0.5)]]
SEEDS = [0, 1]


def run(name, overrides, seed, data, device) -> dict:
    cfg = recipe(name, seed=seed, **{**BASE[name], **overrides})
    start = time.perf_counter()
    model, history = train_model(cfg, data, progress=False)
    test = evaluate(model, data.test_x, data.test_y)["accuracy"]
    return dict(model=name, overrides=overrides, seed=seed, val=history.val_acc[-1], test=test,
                seconds=time.perf_counter() - start, device=device)


def main(out: str, cpu_grid: bool = False) -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = load_splits(recipe("best")).to(device)
    jobs = [(n, g, 0) for n, g in CPU_GRID] if cpu_grid else [
        (n, g, s) for n, g in GRID for s in SEEDS]
    with open(out, "w") as f:
        for name, overrides, seed in jobs:
            row = run(name, overrides, seed, data, device)
            print(json.dumps(row), file=f, flush=True)
            print(row, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], "--cpu-grid" in sys.argv)
