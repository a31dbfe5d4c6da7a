"""Recipe search for the `best` model, judged on the validation split (test shown, not used).

Run: python benchmarks/sweep.py OUT.jsonl   (on a GPU this takes minutes; on this CPU, hours)
"""
import json
import sys
import time

import torch

from mnist_digits.config import recipe
from mnist_digits.data import load_splits
from mnist_digits.evaluate import evaluate
from mnist_digits.train import train_model

GRID = [dict(), dict(epochs=6), dict(epochs=10), dict(epochs=12), dict(augment=0.5),
        dict(augment=1.5), dict(label_smoothing=0.0), dict(lr=2e-3), dict(lr=8e-3),
        dict(batch_size=256, lr=6e-3), dict(weight_decay=0.0), dict(weight_decay=5e-4)]
SEEDS = [0, 1]


def main(out: str) -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = load_splits(recipe("best")).to(device)
    jobs = [("best", g, s) for g in GRID for s in SEEDS]
    jobs += [("cnn", dict(augment=a, epochs=e), s)
             for a in (0.0, 0.5) for e in (8, 12) for s in SEEDS]
    with open(out, "w") as f:
        for name, overrides, seed in jobs:
            cfg = recipe(name, seed=seed, **overrides)
            start = time.perf_counter()
            model, hist = train_model(cfg, data, progress=False)
            row = dict(model=name, overrides=overrides, seed=seed, val=hist.val_acc[-1],
                       test=evaluate(model, data.test_x, data.test_y)["accuracy"],
                       seconds=time.perf_counter() - start, device=device)
            print(json.dumps(row), file=f, flush=True)
            print(row, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
