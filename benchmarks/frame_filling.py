"""Digits that fill their frame, made from the MNIST test digits, and how well `predict` reads them.

Kinds (one image per digit and kind, seeded per image; polarity dark-on-light or light-on-dark):
  mnist    the 28x28 test digit itself, as a PNG (white on black): clean MNIST through predict
  tight    grey tight crop of the digit, longer side 16-64 px, aspect kept (PNG)
  thick    the same with strokes about twice as thick (a marker on a sticky note)
  binary   black-and-white bitmap of the tight crop, 16-64 px (1-bit PNG)
  faint    a pen 12-30% darker than tinted paper, 0-4 px margin, sensor noise (JPEG)
  edge     a larger digit on paper touching one or two sides of the picture (PNG)
  stretched32, stretched16
           a scanned form's digit: stretched to fill a square box (aspect not kept), thick,
           black-and-white, 32x32 or 16x16 (1-bit PNG)
  bold     strokes about one and a half times as thick, tight crop (PNG)
  broken   a thin pen whose strokes break in two to four places, on paper, noise (JPEG)
Files are OUT/KIND/00042_label7.EXT. With --weights (one checkpoint or several, side by side
on the same pictures), each kind goes through `predict`
(preprocessing included); accuracy, refusals, the calibration error (ECE, 15 bins) and the share
of wrong and of right answers flagged uncertain are reported per kind, beside the same model on
the same digits, clean. The last line is JSON.

Run: python benchmarks/frame_filling.py --limit 5000 --weights weights/reader.pth OTHER.pth
     python benchmarks/frame_filling.py --skip 5000 --limit 5000 --weights weights/reader.pth
     python benchmarks/frame_filling.py --split val --limit 1000 --weights FILE --choose
(the second: the other half of the test digits, which no earlier figure used; the third: the
uncertainty threshold chosen on the validation digits no model trained on)
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # importable from a checkout
from mnist_digits import lesson  # noqa: E402
from mnist_digits.checkpoints import load_checkpoint, temperature  # noqa: E402
from mnist_digits.cli import positive_int  # noqa: E402
from mnist_digits.data import load_mnist  # noqa: E402
from mnist_digits.errors import MnistError  # noqa: E402
from mnist_digits.lesson import Config, calibration_error  # noqa: E402
from mnist_digits.provenance import machine  # noqa: E402
from mnist_digits.reading.predict import predict, predict_paths  # noqa: E402
from mnist_digits.reading.strokes import thin  # noqa: E402


def tight(ink: np.ndarray) -> np.ndarray:
    """Crop float ink (white on black, [0, 1]) to the box of its visible pixels."""
    rows, cols = np.flatnonzero((ink > 0.05).any(1)), np.flatnonzero((ink > 0.05).any(0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def resize(ink: np.ndarray, side: int) -> np.ndarray:
    """Longer side to `side` px, aspect kept (bicubic), clipped to [0, 1]."""
    h, w = ink.shape
    size = (max(1, round(w * side / max(h, w))), max(1, round(h * side / max(h, w))))
    img = Image.fromarray(ink.astype(np.float32)).resize(size, Image.BICUBIC)
    return np.clip(np.asarray(img), 0, 1)


def disk(radius: int) -> np.ndarray:
    return np.hypot(*np.mgrid[-radius:radius + 1, -radius:radius + 1]) <= radius


def thicker(ink: np.ndarray, radius: int = 5) -> np.ndarray:
    """Thicker strokes: grey dilation at 4x scale with a disk (radius 5: about twice as thick,
    3: one and a half times)."""
    big = resize(ink, 4 * max(ink.shape))
    return resize(ndimage.grey_dilation(big, footprint=disk(radius)), max(ink.shape))


def stretched(ink: np.ndarray, side: int) -> np.ndarray:
    """The digit's box stretched to a side x side square, aspect not kept, as bits: scanned
    forms store digits so, and a thin '1' becomes a fat bar."""
    box = Image.fromarray(ink.astype(np.float32)).resize((side, side), Image.BILINEAR)
    return np.asarray(box) > 0.3  # a low cut: forms' bitmaps have thick strokes


def broken(ink: np.ndarray, rng) -> np.ndarray:
    """A thin pen that skips, at 4x scale: each stroke's middle line (thinned to one pixel)
    drawn 5 px wide (1.25 px at 28x28), then cut by two to four round gaps."""
    ridge = thin(resize(ink, 4 * max(ink.shape)) > 0.4)
    pen = ndimage.binary_dilation(ridge, structure=disk(2))
    ys, xs = np.nonzero(ridge)
    yy, xx = np.indices(pen.shape)
    for i in rng.choice(len(ys), size=min(len(ys), int(rng.integers(2, 5))), replace=False):
        pen &= np.hypot(yy - ys[i], xx - xs[i]) > rng.uniform(4, 8)  # a 2-4 px gap at 28x28
    return pen.astype(np.float32)


def paint(ink: np.ndarray, paper, pen) -> np.ndarray:
    """Ink in [0, 1] -> RGB floats: pen colour where ink is 1, paper where it is 0."""
    return ink[..., None] * np.float32(pen) + (1 - ink[..., None]) * np.float32(paper)


def polarity(ink: np.ndarray, rng) -> np.ndarray:
    """Grey picture: light-on-dark (ink as is) or dark-on-light, at random."""
    return ink if rng.random() < 0.5 else 1 - ink


def make(kind: str, digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """One (28, 28) uint8 MNIST digit -> a picture of the given kind."""
    if kind == "mnist":
        return Image.fromarray(digit)
    ink = tight(digit.astype(np.float32) / 255)
    if kind == "tight":
        return gray(polarity(resize(ink, int(rng.integers(16, 65))), rng))
    if kind == "thick":
        return gray(polarity(resize(tight(thicker(ink)), int(rng.integers(24, 65))), rng))
    if kind == "binary":
        bits = polarity(resize(ink, int(rng.integers(16, 65))) > 0.5, rng)
        return Image.fromarray(np.asarray(bits, bool))
    if kind == "faint":
        return faint(resize(ink, int(rng.integers(20, 81))), rng)
    if kind == "edge":
        return edge(resize(ink, int(rng.integers(40, 121))), rng)
    if kind.startswith("stretched"):
        return Image.fromarray(np.asarray(polarity(stretched(ink, int(kind[9:])), rng), bool))
    if kind == "bold":
        return gray(polarity(resize(tight(thicker(ink, 3)), int(rng.integers(20, 65))), rng))
    if kind == "broken":
        return photo(resize(broken(ink, rng), int(rng.integers(60, 161))), rng)
    raise ValueError(f"unknown kind {kind!r}")


def gray(x: np.ndarray) -> Image.Image:
    return Image.fromarray((x * 255).round().astype(np.uint8))


def faint(ink: np.ndarray, rng) -> Image.Image:
    """Pen slightly darker than grey or tinted paper, a 0-4 px margin, noise, JPEG-ready RGB."""
    ink = np.pad(ink, [(int(rng.integers(0, 5)),) * 2] * 2)
    paper = rng.uniform(0.55, 0.95) * np.float32([1, rng.uniform(0.9, 1), rng.uniform(0.8, 1)])
    pen = paper * (1 - rng.uniform(0.12, 0.30))
    img = paint(ink, paper, pen) + rng.normal(0, rng.uniform(0.003, 0.015), (*ink.shape, 3))
    return Image.fromarray((img.clip(0, 1) * 255).round().astype(np.uint8))


def edge(ink: np.ndarray, rng) -> Image.Image:
    """Dark pen on paper, the digit touching one or two sides; the others get a margin."""
    margins = rng.integers(5, 40, 4)
    margins[rng.choice(4, int(rng.integers(1, 3)), replace=False)] = 0
    ink = np.pad(ink, [(margins[0], margins[1]), (margins[2], margins[3])])
    img = paint(ink, rng.uniform(0.75, 0.95), rng.uniform(0.05, 0.3))
    img = img[..., 0] + rng.normal(0, 0.01, ink.shape)
    return gray(img.clip(0, 1))


def photo(ink: np.ndarray, rng) -> Image.Image:
    """A dark pen on light paper with a margin, uneven light and sensor noise, JPEG-ready RGB."""
    ink = np.pad(ink, [(int(rng.integers(4, 30)),) * 2] * 2)
    paper = rng.uniform(0.7, 0.95) * np.float32([1, rng.uniform(0.9, 1), rng.uniform(0.8, 1)])
    light = np.linspace(1, rng.uniform(0.85, 1), ink.shape[1], dtype=np.float32)[None, :, None]
    img = paint(ink, paper, rng.uniform(0.05, 0.35) * paper) * light
    img = img + rng.normal(0, rng.uniform(0.005, 0.02), img.shape)
    return Image.fromarray((img.clip(0, 1) * 255).round().astype(np.uint8))


KINDS = {"mnist": "png", "tight": "png", "thick": "png", "binary": "png", "faint": "jpg",
         "edge": "png", "stretched32": "png", "stretched16": "png", "bold": "png",
         "broken": "jpg"}  # kind -> file type; new kinds go last (each kind's seeds use its place)


def generate(images, labels, out: Path, kind: str, seed: int = 0, first: int = 0) -> list[Path]:
    """Write one picture per digit into out/kind, the digits numbered from `first` (their index
    in the split, which seeds each picture); returns the paths in order."""
    (out / kind).mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (digit, label) in enumerate(zip(images, labels, strict=True), start=first):
        rng = np.random.default_rng([seed, i, list(KINDS).index(kind)])
        path = out / kind / f"{i:05d}_label{int(label)}.{KINDS[kind]}"
        make(kind, digit, rng).save(path, **({"quality": 85} if KINDS[kind] == "jpg" else {}))
        paths.append(path)
    return paths


SWEEP = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99)  # thresholds tried by --choose


def score(model, meta, paths, labels) -> dict:
    """Accuracy (refusals count as wrong) and refusals through predict, with the time taken;
    of the answers given, the calibration error (%), the shares of the wrong and of the right
    answers flagged uncertain at predict's default threshold, and the counts of right and
    wrong answers and, per threshold of SWEEP, of those flagged."""
    start = time.perf_counter()
    results = predict_paths(model, meta, paths)
    seconds = time.perf_counter() - start
    preds = np.array([r.get("digit", -1) for r in results])
    answered = [(r, label) for r, label in zip(results, labels, strict=True) if "digit" in r]
    probs = predict(model, meta, np.stack([r["image"] for r, _ in answered]))
    right = np.array([r["digit"] == label for r, label in answered])
    flagged = np.array([r["uncertain"] for r, _ in answered])
    top = np.array([r["probability"] for r, _ in answered])
    return {"accuracy": round(100 * float((preds == labels).mean()), 2),
            "refused": int((preds < 0).sum()),
            "calibration_error": round(100 * calibration_error(
                torch.from_numpy(probs), torch.tensor([label for _, label in answered])), 2),
            "wrong_flagged": share(flagged[~right]), "right_flagged": share(flagged[right]),
            "ms_per_image": round(1000 * seconds / len(labels), 1),
            "answers": {"wrong": int((~right).sum()), "right": int(right.sum())},
            "flagged_at": {str(t): [int((top[~right] < t).sum()), int((top[right] < t).sum())]
                           for t in SWEEP}}


MOST_RIGHT = 1.0  # --choose: % of the right answers the flag may catch (issue 22's budget)


def choose_threshold(run: dict, most_right: float = MOST_RIGHT) -> tuple[float, float, float]:
    """The highest threshold of SWEEP that flags at most `most_right` % of the right answers
    over all kinds together: (threshold, % of wrong flagged, % of right flagged). Choose it
    on --split val, report it on test."""
    kinds = run["kinds"].values()
    wrong, right = (sum(k["answers"][side] for k in kinds) for side in ("wrong", "right"))
    best = (SWEEP[0], 0.0, 0.0)
    for t in SWEEP:
        w, r = (sum(k["flagged_at"][str(t)][i] for k in kinds) for i in (0, 1))
        if 100 * r / max(right, 1) <= most_right:
            best = (t, round(100 * w / max(wrong, 1), 2), round(100 * r / max(right, 1), 2))
    return best


def share(flags: np.ndarray) -> float | None:
    """The percentage of True among flags (None for no flags)."""
    return round(100 * float(flags.mean()), 2) if len(flags) else None


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="runs/frame_filling", help="folder for the images")
    p.add_argument("--limit", type=positive_int, default=1000,
                   help="how many digits: the first N, or the N after --skip")
    p.add_argument("--skip", type=int, default=0, metavar="N",
                   help="start after the first N digits (for digits no earlier run has used)")
    p.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", choices=["test", "train", "val"], default="test",
                   help="digits to draw from: tune the preprocessing on train, choose the "
                   "threshold on val (the validation digits no model trained on), report on test")
    p.add_argument("--data", default=Config.data_dir,
                   help="MNIST folder (default %(default)s/)")
    p.add_argument("--weights", nargs="+", default=[], metavar="FILE",
                   help="checkpoints to evaluate side by side on the same pictures (else: only "
                   "write the pictures)")
    p.add_argument("--json-out", metavar="FILE", help="also write the summary here")
    p.add_argument("--choose", action="store_true", help="print the threshold each checkpoint "
                   "would need (choose it on --split val)")
    args = p.parse_args(argv)
    if args.skip < 0:
        p.error(f"--skip must be 0 or more, not {args.skip}")
    return args


def clean_run(weights, model, meta, images, labels) -> dict:
    """A checkpoint's entry: its name and temperature, and its accuracy on the clean digits."""
    clean = predict(model, meta, images.astype(np.float32) / 255).argmax(1)
    return {"weights": str(weights), "model": meta.get("model"),
            "temperature": temperature(meta, weights),
            "clean_accuracy": round(100 * float((clean == labels).mean()), 2), "kinds": {}}


def digits(folder, split: str):
    """The test digits, the training digits, or the validation digits the models held out."""
    images, labels = load_mnist(folder, train=split != "test")
    if split != "val":
        return images, labels
    return lesson.split(images, labels, Config.val_size)[2:]


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        models = [(w, *load_checkpoint(w)) for w in args.weights]
        images, labels = digits(args.data, args.split)
        chosen = slice(args.skip, args.skip + args.limit)
        images, labels = images[chosen].numpy(), labels[chosen].numpy()
        runs = [clean_run(w, model, meta, images, labels) for w, model, meta in models]
        for kind in args.kinds:
            paths = generate(images, labels, Path(args.out), kind, args.seed, args.skip)
            for run, (_, model, meta) in zip(runs, models, strict=True):
                run["kinds"][kind] = score(model, meta, paths, labels)
                print(f"{kind:>11} {run['weights']}: {run['kinds'][kind]}", flush=True)
    except MnistError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for run in runs if args.choose else []:
        t, wrong, right = choose_threshold(run)
        print(f"{run['weights']}: threshold {t} flags {wrong}% of the wrong answers and "
              f"{right}% of the right ones, all kinds together")
    summary = json.dumps({"images_per_kind": len(labels), "split": args.split, "skip": args.skip,
                          "seed": args.seed, "runs": runs, "machine": machine()})
    if args.json_out:
        Path(args.json_out).write_text(summary + "\n")
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
