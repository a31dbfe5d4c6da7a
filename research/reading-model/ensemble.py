"""Issue 22, a probe: two reading models averaged (their calibrated probabilities), against the
first alone, on the validation kinds: each picture goes through predict's pipeline once and
both networks read it. Deciding nothing: predict reads with one network.

    python research/reading-model/ensemble.py --limit 1000 \\
        --weights weights/reader.pth runs/reader-styles1-5.pth
"""
import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
import frame_filling as ff  # noqa: E402

from mnist_digits.checkpoints import load_checkpoint  # noqa: E402
from mnist_digits.lesson import mcnemar  # noqa: E402
from mnist_digits.reading.predict import predict, predict_paths  # noqa: E402


def digits_of(model, meta, paths) -> tuple[np.ndarray, np.ndarray]:
    """The 28x28 digits `predict` reads (zeros where it refused), and which it read."""
    results = predict_paths(model, meta, paths)
    read = np.array(["image" in r for r in results])
    return np.stack([r.get("image", np.zeros((28, 28), np.float32)) for r in results]), read


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--limit", type=int, default=1000, help="the first N validation digits")
    p.add_argument("--weights", nargs=2, required=True)
    p.add_argument("--out", default="runs/ensemble")
    args = p.parse_args()
    images, labels = ff.digits(ROOT / "data", "val")
    images, labels = images[:args.limit].numpy(), labels[:args.limit].numpy()
    models = [load_checkpoint(ROOT / w) for w in args.weights]
    print(f"validation, first {args.limit} digits a kind: digits read wrong")
    print(f"{'kind':>11} {'first':>6} {'second':>6} {'both':>6}")
    first_right, both_right = [], []
    for kind in ff.KINDS:
        digits, read = digits_of(*models[0], ff.generate(images, labels, Path(args.out), kind))
        probs = [predict(model, meta, digits) for model, meta in models]
        preds = [np.where(read, q.argmax(1), -1) for q in (*probs, (probs[0] + probs[1]) / 2)]
        print(f"{kind:>11} " + " ".join(f"{(q != labels).sum():>6}" for q in preds), flush=True)
        first_right.append(preds[0] == labels)
        both_right.append(preds[2] == labels)
    first, both = np.concatenate(first_right), np.concatenate(both_right)
    only_first, only_both, pval = mcnemar(first, both, True)
    print(f"all kinds: {(~first).sum()} wrong alone, {(~both).sum()} together; right only "
          f"alone {only_first}, only together {only_both} (McNemar p = {pval:.3f})")
    x, y = (t.numpy() for t in ff.digits(ROOT / "data", "val"))
    probs = [predict(model, meta, x / 255) for model, meta in models]
    for name, q in zip(("first", "second", "both"), (*probs, (probs[0] + probs[1]) / 2),
                       strict=True):
        print(f"MNIST validation ({len(y)}), {name}: {100 * (q.argmax(1) == y).mean():.2f}%")


if __name__ == "__main__":
    main()
