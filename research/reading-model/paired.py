"""Checkpoints on the same frame-filling pictures, digit by digit: for each kind and for all
kinds together, how many digits only the first or only the other reads right, and McNemar's
exact p-value (the notebook's `mcnemar`). The pictures are `benchmarks/frame_filling.py`'s,
made afresh into --out. Run from the repository root:

    python research/reading-model/paired.py --split val --limit 1000 \\
        --weights weights/reader.pth runs/reader-thin.pth
"""
import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
from frame_filling import KINDS, digits, generate  # noqa: E402

from mnist_digits.checkpoints import load_checkpoint  # noqa: E402
from mnist_digits.lesson import Config, binomial_p, mcnemar  # noqa: E402
from mnist_digits.reading.predict import predict, predict_paths  # noqa: E402


def predictions(models, paths) -> list[np.ndarray]:
    """Each model's digit per picture (-1 where `predict` refuses it), each picture read once."""
    results = predict_paths(*models[0], paths)
    answered = np.array(["digit" in r for r in results])
    x = np.stack([r["image"] for r in results if "digit" in r] or [np.zeros((28, 28))])
    preds = [np.full(len(paths), -1) for _ in models]
    for pr, (model, meta) in zip(preds, models, strict=True):
        pr[answered] = predict(model, meta, x).argmax(1)[:answered.sum()]
    return preds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--split", choices=["test", "train", "val"], default="val")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--out", type=Path, default=Path("runs/paired"), help="folder for the pictures")
    p.add_argument("--weights", nargs="+", required=True, metavar="FILE")
    args = p.parse_args()
    models = [load_checkpoint(w) for w in args.weights]
    images, labels = digits(Config.data_dir, args.split)
    images, labels = images[:args.limit].numpy(), labels[:args.limit].numpy()
    totals = {w: [0, 0] for w in args.weights[1:]}
    for kind in KINDS:
        preds = predictions(models, generate(images, labels, args.out, kind))
        for w, pr in zip(args.weights[1:], preds[1:], strict=True):
            only_a, only_b, pval = mcnemar(preds[0], pr, labels)
            print(f"{kind:>11}  {args.weights[0]} only {only_a:3d}, {w} only {only_b:3d}: "
                  f"p = {pval:.3f}", flush=True)
            totals[w] = [totals[w][0] + only_a, totals[w][1] + only_b]
    for w, (a, b) in totals.items():
        print(f"all kinds    {args.weights[0]} only {a}, {w} only {b} "
              f"({len(labels)} digits a kind): p = {binomial_p(min(a, b), a + b, 0.5):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
