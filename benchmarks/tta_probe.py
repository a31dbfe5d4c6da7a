"""Test-time augmentation probe on the validation split only: one checkpoint, without TTA,
with 1-pixel shifts, and with random warps (several draws of the warps).

Run: python benchmarks/tta_probe.py [--weights weights/best.pth] [--draws 4]
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mnist_digits.checkpoints import load_checkpoint  # noqa: E402
from mnist_digits.config import recipe  # noqa: E402
from mnist_digits.data import load_splits  # noqa: E402
from mnist_digits.ensemble import ensemble_accuracy  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--weights", default="weights/best.pth")
    p.add_argument("--draws", type=int, default=4)
    p.add_argument("--data", default="data")
    args = p.parse_args()
    model, meta = load_checkpoint(args.weights)
    data = load_splits(recipe("best", data_dir=args.data))
    x, y = data.val_x, data.val_y
    result = {"weights": args.weights, "seed": meta["seed"], "split": "validation",
              "none": ensemble_accuracy([model], x, y),
              "shifts": ensemble_accuracy([model], x, y, "shifts"),
              "warps": [ensemble_accuracy([model], x, y, "warps", s) for s in range(args.draws)]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
