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
from mnist_digits.errors import MnistError  # noqa: E402
from mnist_digits.lesson import Config, binomial_p, mcnemar  # noqa: E402
from mnist_digits.reading.photo import prepare  # noqa: E402
from mnist_digits.reading.predict import predict  # noqa: E402


def read(paths):
    """(digits as (N, 28, 28), which pictures `predict` refuses)."""
    out, refused = [], np.zeros(len(paths), bool)
    for i, p in enumerate(paths):
        try:
            out.append(prepare(p))
        except MnistError:
            out.append(np.zeros((28, 28), np.float32))
            refused[i] = True
    return np.stack(out), refused


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
        x, refused = read(generate(images, labels, args.out, kind))
        preds = [np.where(refused, -1, predict(m, meta, x).argmax(1)) for m, meta in models]
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
