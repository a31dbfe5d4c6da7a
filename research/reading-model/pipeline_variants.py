"""Issue 22: variants of the photo pipeline's stroke handling, side by side on the same pictures
and weights, to tune them on training digits and confirm on validation digits. Counts the
digits each variant reads wrong, per kind (the frame-filling kinds, and `user`: the
user-style photos of benchmarks/user_style.py). Run from the repository root:

    python research/reading-model/pipeline_variants.py --split train --limit 1000 --variants \\
        today thin=4.5,3.2 skeleton=4.5,3.2 skeleton=4.5,2.7 \\
        --kinds thick bold stretched32 stretched16 tight mnist
    python research/reading-model/pipeline_variants.py --split train --limit 2000 \\
        --variants today min_stroke=2.6 min_stroke=3.0 --kinds broken faint edge tight user
    python research/reading-model/pipeline_variants.py --split val --limit 3000 \\
        --variants today min_stroke=2.6 min_stroke=3.0 --kinds broken faint edge tight user
    python research/reading-model/pipeline_variants.py --split train --limit 1000 \\
        --variants today floor=sigma floor=quarter
    python research/reading-model/pipeline_variants.py --split train --limit 1000 --widths \\
        --kinds mnist thick bold stretched16 broken
    python research/reading-model/pipeline_variants.py --split train --limit 2000 \\
        --variants today bridge=2 bridge=3 bridge=4 bridge=5 \\
        --kinds broken faint edge tight mnist user
    python research/reading-model/pipeline_variants.py --split val --limit 3000 \\
        --variants today bridge=5
    python research/reading-model/pipeline_variants.py --split val --limit 3000 \\
        --variants polarity=pieces today

Variants: `today`; `min_stroke=W` (thin strokes thickened to W px, not 2.0); `thin=M,T` (strokes
wider than M px peeled down to T px by erosion), `skeleton=M,T` (the same, with each stroke's
middle line redrawn T px wide over the erosion, so no stroke vanishes); `floor=sigma` or
`floor=quarter` (soft ink measured from 3 noise sigmas, or from a quarter of the Otsu
threshold, instead of half of it: more of the antialiased edge kept); `bridge=D` (a thin pen's
stroke ends joined to the nearest other end within D px); `polarity=pieces` (the polarity
vote before its last cue: on a tie of the pieces, no decision, where today the side more even
in width is the ink). Below the counts, each variant against the first, digit by digit
(McNemar's exact test over all the pictures).
"""
import argparse
import contextlib
import sys
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
import frame_filling as ff  # noqa: E402
import user_style as us  # noqa: E402

from mnist_digits import lesson  # noqa: E402
from mnist_digits.checkpoints import load_checkpoint  # noqa: E402
from mnist_digits.errors import MnistError  # noqa: E402
from mnist_digits.lesson import Config, mcnemar  # noqa: E402
from mnist_digits.reading import ink, photo  # noqa: E402
from mnist_digits.reading.predict import predict  # noqa: E402
from mnist_digits.reading.strokes import unevenness  # noqa: E402

FIND_INK, THICKEN = ink.find_ink, photo.thicken  # today's, which the variants wrap
FLOORS = {"sigma": 0.0, "quarter": 0.25}  # floor=NAME: find_ink's floor (today ink.SOFT_FLOOR)


def width(crop: np.ndarray) -> float:
    """The stroke width photo.thicken measures, in px at the 20-px scale."""
    return photo.stroke_width(crop > 0.5) * photo.FIT / max(crop.shape)


def peel(crop: np.ndarray, most: float, target: float, skeleton: bool) -> np.ndarray:
    """Strokes wider than `most` px eroded to `target` px, at 4x the 20-px scale."""
    w = width(crop)
    if w <= most:
        return crop
    s = 4 * photo.FIT / max(crop.shape)
    size = (max(1, round(crop.shape[1] * s)), max(1, round(crop.shape[0] * s)))
    big = np.asarray(Image.fromarray(crop.astype(np.float32)).resize(size, Image.BILINEAR)) > 0.5
    depth = ndimage.distance_transform_edt(np.pad(big, 1))[1:-1, 1:-1]  # px to the paper
    out = np.clip(depth - 2 * (w - target), 0, 1)
    if skeleton:
        to_ridge = ndimage.distance_transform_edt(~ff.thin(big))
        out = np.maximum(out, np.clip(2 * target + 0.5 - to_ridge, 0, 1))
    return photo.crop_to_ink(out.astype(np.float32)) if out.any() else crop


def ends(ridge: np.ndarray) -> np.ndarray:
    """(N, 2) rows and columns of a one-pixel ridge's end points (one neighbour)."""
    neighbours = ndimage.convolve(ridge.astype(int), np.ones((3, 3), int), mode="constant") - 1
    return np.argwhere(ridge & (neighbours == 1))


def bridge(crop: np.ndarray, reach: float) -> np.ndarray:
    """A thin pen's gaps closed: each stroke end joined by a 1-px line to the nearest other
    end within `reach` px (20-px scale) when the line's middle is paper (a gap, not the two
    ends of one short piece). Strokes at least photo.MIN_STROKE wide are left alone."""
    mask = crop > 0.5
    if not mask.any() or width(crop) >= photo.MIN_STROKE:
        return crop
    tips = ends(ff.thin(mask))
    if len(tips) < 2:
        return crop
    out, limit = crop.copy(), reach * max(crop.shape) / photo.FIT
    apart = np.hypot(*(tips[:, None] - tips[None]).transpose(2, 0, 1))
    np.fill_diagonal(apart, np.inf)
    for i, j in enumerate(apart.argmin(1)):
        (y0, x0), (y1, x1) = tips[i], tips[j]
        if apart[i, j] <= limit and not mask[(y0 + y1) // 2, (x0 + x1) // 2]:
            steps = int(np.ceil(apart[i, j])) + 1
            out[np.linspace(y0, y1, steps).round().astype(int),
                np.linspace(x0, x1, steps).round().astype(int)] = 1
    return out


def use(variant: str) -> None:
    """Make photo.to_mnist run with one variant's change (its find_ink, thicken and vote)."""
    name, _, value = variant.partition("=")
    ink.unevenness = (lambda mask: 0.0) if variant == "polarity=pieces" else unevenness
    ink.find_ink = partial(FIND_INK, floor=FLOORS[value]) if name == "floor" else FIND_INK
    stroke = float(value) if name == "min_stroke" else photo.MIN_STROKE
    if name == "bridge":
        photo.thicken = lambda crop: THICKEN(bridge(crop, float(value)), stroke)
    elif name in ("thin", "skeleton"):
        most, target = map(float, value.split(","))
        photo.thicken = lambda crop: THICKEN(peel(crop, most, target, name == "skeleton"), stroke)
    else:
        photo.thicken = partial(THICKEN, min_stroke=stroke)


def pictures(kind: str, images, labels, first: int, out: Path) -> list:
    if kind == "user":
        return [us.user_style(d, np.random.default_rng([0, first + i]))
                for i, d in enumerate(images)]
    return [Image.open(p) for p in ff.generate(images, labels, out, kind, first=first)]


def widths(pics) -> np.ndarray:
    """Each picture's stroke width (px at the 20-px scale) as today's pipeline crops it."""
    seen = []
    photo.thicken = lambda crop: seen.append(width(crop)) or crop
    for img in pics:
        with contextlib.suppress(MnistError):
            photo.to_mnist(img)
    return np.array(seen)


def wrong(model, meta, pics, labels, variant: str) -> np.ndarray:
    """Which digits are read wrong (a refusal counts as wrong)."""
    use(variant)
    digits, read = [], []
    for img in pics:
        try:
            digits.append(photo.to_mnist(img))
            read.append(True)
        except MnistError:
            read.append(False)
    preds = np.full(len(read), -1)
    preds[np.array(read)] = predict(model, meta, np.stack(digits)).argmax(1)
    return preds != labels


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--split", choices=["train", "val"], default="train")
    p.add_argument("--limit", type=int, default=1000, help="the last N digits of the training "
                   "split, or the first N validation digits")
    p.add_argument("--variants", nargs="+", default=["today"])
    p.add_argument("--kinds", nargs="+", default=[*ff.KINDS, "user"])
    p.add_argument("--weights", default="weights/reader.pth")
    p.add_argument("--out", default="runs/pipeline_variants")
    p.add_argument("--widths", action="store_true", help="print each kind's stroke widths "
                   "(5th, 50th and 95th percentiles) instead")
    args = p.parse_args()
    images, labels = ff.digits("data", args.split)
    if args.split == "train":  # the training split proper, not the validation digits in it
        images, labels = lesson.split(images, labels, Config.val_size)[:2]
    first = len(images) - args.limit if args.split == "train" else 0
    chosen = slice(first, first + args.limit)
    images, labels = images[chosen].numpy(), labels[chosen].numpy()
    if args.widths:
        for kind in args.kinds:
            w = widths(pictures(kind, images, labels, first, Path(args.out) / args.split))
            print(f"{kind:>11} stroke width, 5th/50th/95th percentile: "
                  + " / ".join(f"{q:.1f}" for q in np.percentile(w, [5, 50, 95])) + " px")
        return
    model, meta = load_checkpoint(args.weights)
    print(f"{args.split}, {args.limit} digits a kind, {args.weights}: digits read wrong")
    print(f"{'kind':>11} " + " ".join(f"{v:>14}" for v in args.variants))
    misses = []
    for kind in args.kinds:
        pics = pictures(kind, images, labels, first, Path(args.out) / args.split)
        misses.append([wrong(model, meta, pics, labels, v) for v in args.variants])
        print(f"{kind:>11} " + " ".join(f"{m.sum():>14}" for m in misses[-1]), flush=True)
    misses = np.concatenate(misses, axis=1)  # (variants, pictures)
    print(f"{'all':>11} " + " ".join(f"{m.sum():>14}" for m in misses))
    for v, m in zip(args.variants[1:], misses[1:], strict=True):
        today, new, p = mcnemar(~misses[0], ~m, True)  # "predictions" True where read right
        print(f"{v} against {args.variants[0]}, all kinds: right only with {v} {new}, only "
              f"with {args.variants[0]} {today} (McNemar p = {p:.3f})")


if __name__ == "__main__":
    main()
