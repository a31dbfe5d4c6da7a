"""A "user-style" test set made from the MNIST test digits, and how well a model reads it.

Each digit is presented the way a user would show one: dark ink on tinted paper, a few hundred
pixels wide, 3-8x larger than MNIST, off-centre, uneven light, sensor noise, saved as JPEG
(quality 60-90). Files are OUT/00042_label7.jpg (test index, true label); seeded per image.
With --weights, the images go through `predict` (preprocessing included) and the accuracy is
compared with the same model's accuracy on the same digits, clean. The last line is JSON.

Run: python benchmarks/user_style.py --weights weights/reader.pth --json-out results/user-style.json
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # importable from a checkout
from mnist_digits.checkpoints import load_checkpoint  # noqa: E402
from mnist_digits.cli import positive_int  # noqa: E402
from mnist_digits.data import load_mnist  # noqa: E402
from mnist_digits.errors import MnistError  # noqa: E402
from mnist_digits.lesson import Config  # noqa: E402
from mnist_digits.provenance import machine  # noqa: E402
from mnist_digits.reading.predict import predict, predict_paths  # noqa: E402


def user_style(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """One (28, 28) uint8 MNIST digit (white on black) -> an RGB photo-like picture of it."""
    d = round(28 * rng.uniform(3, 8))
    ink = np.asarray(Image.fromarray(digit).resize((d, d), Image.BICUBIC), np.float32) / 255
    h, w = (max(int(rng.integers(200, 401)), d + 16) for _ in range(2))
    top, left = int(rng.integers(0, h - d + 1)), int(rng.integers(0, w - d + 1))
    layer = np.zeros((h, w, 1), np.float32)
    layer[top:top + d, left:left + d, 0] = ink.clip(0, 1)
    paper = rng.uniform(0.8, 0.98) * np.float32([1, rng.uniform(0.94, 1), rng.uniform(0.85, 1)])
    pen = rng.uniform(0, 0.25, 3).astype(np.float32)
    img = (layer * pen + (1 - layer) * paper) * lighting(h, w, rng)[..., None]
    img += rng.normal(0, rng.uniform(0.005, 0.03), img.shape).astype(np.float32)
    return Image.fromarray((img.clip(0, 1) * 255).round().astype(np.uint8))


def lighting(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A linear fall-off of up to 35% across the page, in a random direction."""
    angle = rng.uniform(0, 2 * np.pi)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    ramp = np.cos(angle) * x + np.sin(angle) * y
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-9)
    return (1 - rng.uniform(0, 0.35) * ramp).astype(np.float32)


def generate(images, labels, out: Path, seed: int = 0) -> list[Path]:
    """Write one JPEG per digit into out; returns the paths in test-set order."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (digit, label) in enumerate(zip(images, labels, strict=True)):
        rng = np.random.default_rng([seed, i])
        path = out / f"{i:05d}_label{int(label)}.jpg"
        user_style(digit, rng).save(path, quality=int(rng.integers(60, 91)))
        paths.append(path)
    return paths


def evaluate(model, meta, paths, images, labels) -> dict:
    """Accuracy on the user-style files (through predict) and on the same digits, clean."""
    clean = predict(model, meta, images.astype(np.float32) / 255).argmax(1)
    start = time.perf_counter()
    results = predict_paths(model, meta, paths)
    seconds = time.perf_counter() - start
    preds = np.array([r.get("digit", -1) for r in results])
    n = len(labels)
    per_class = [round(100 * float((preds[labels == k] == k).mean()), 2)
                 if (labels == k).any() else None for k in range(10)]
    return {"model": meta.get("model"), "images": n,
            "clean_accuracy": round(100 * float((clean == labels).mean()), 2),
            "user_style_accuracy": round(100 * float((preds == labels).mean()), 2),
            "failed": int((preds < 0).sum()),
            "uncertain": sum(bool(r.get("uncertain")) for r in results),
            "user_style_per_class": per_class, "ms_per_image": round(1000 * seconds / n, 1)}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="runs/user_style", help="folder for the images")
    p.add_argument("--limit", type=positive_int, default=10_000, help="first N test digits")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=Config.data_dir,
                   help="MNIST folder (default %(default)s/)")
    p.add_argument("--weights", "--evaluate", help="checkpoint to evaluate (else: only write)")
    p.add_argument("--json-out", metavar="FILE", help="also write the summary here")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        model, meta = load_checkpoint(args.weights) if args.weights else (None, None)
        images, labels = load_mnist(args.data, train=False)
        images, labels = images[: args.limit].numpy(), labels[: args.limit].numpy()
        paths = generate(images, labels, Path(args.out), args.seed)
        print(f"wrote {len(paths):,} user-style images to {args.out}")
        if not args.weights:
            return 0
        summary = {**evaluate(model, meta, paths, images, labels), "weights": args.weights,
                   "seed": args.seed, "machine": machine()}
    except MnistError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{summary['model']} ({args.weights}) on {summary['images']:,} digits: clean "
          f"{summary['clean_accuracy']:.2f}%, user-style {summary['user_style_accuracy']:.2f}% "
          f"({summary['failed']} unreadable, {summary['uncertain']} uncertain)")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(summary) + "\n")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
