"""Issue 22: how much of a frame-filling kind can be read at all? The reading model's mistakes on
the last training digits, shown to a person without their labels (a blind reading), and for the
broken pen the same digits drawn without the gaps.

    python research/reading-model/legibility.py gaps --limit 2000
    python research/reading-model/legibility.py sheet --kind broken --limit 2000 --skip 40
    python research/reading-model/legibility.py score --kind broken --answers 7 4 4 8 ...

`sheet` writes runs/legibility/KIND.png (the pictures as predict receives them, numbered) and
KIND.json (labels and the model's answers, not to be opened before answering); `score` compares
a reader's answers, in the sheet's order, with both.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
import frame_filling as ff  # noqa: E402

from mnist_digits import lesson  # noqa: E402
from mnist_digits.checkpoints import load_checkpoint  # noqa: E402
from mnist_digits.lesson import Config  # noqa: E402
from mnist_digits.reading.predict import predict_paths  # noqa: E402

OUT = ROOT / "runs" / "legibility"


def unbroken(ink: np.ndarray, rng) -> np.ndarray:
    """ff.broken's thin pen without its gaps."""
    ridge = ff.thin(ff.resize(ink, 4 * max(ink.shape)) > 0.4)
    return ndimage.binary_dilation(ridge, structure=ff.disk(2)).astype(np.float32)


def training_digits(limit: int):
    """The last `limit` digits of the training split proper, and the first one's index."""
    images, labels = ff.digits(ROOT / "data", "train")
    images, labels = lesson.split(images, labels, Config.val_size)[:2]
    first = len(images) - limit
    return images[first:].numpy(), labels[first:].numpy(), first


def pictures(kind: str, images, labels, first: int, out: Path = OUT / "pictures") -> list:
    """The kind's picture files, seeded as frame_filling.py seeds them (JPEG kinds as JPEG)."""
    return ff.generate(images, labels, out, kind, first=first)


def answers(paths, weights: str) -> np.ndarray:
    """The reading model's answer per picture, as `predict` gives it (-1: refused)."""
    model, meta = load_checkpoint(ROOT / weights)
    return np.array([r.get("digit", -1) for r in predict_paths(model, meta, paths)])


def gaps(args) -> None:
    images, labels, first = training_digits(args.limit)
    wrong = (answers(pictures("broken", images, labels, first), args.weights) != labels).sum()
    broken = ff.broken
    ff.broken = unbroken
    try:
        pics = pictures("broken", images, labels, first, OUT / "no-gaps")  # same digits, pens
    finally:
        ff.broken = broken
    whole = (answers(pics, args.weights) != labels).sum()
    print(f"broken pen, last {args.limit} training digits, {args.weights}: {wrong} read wrong "
          f"with the gaps, {whole} without them")


def sheet(args) -> None:
    images, labels, first = training_digits(args.limit)
    pics = pictures(args.kind, images, labels, first)
    preds = answers(pics, args.weights)
    wrong = np.flatnonzero(preds != labels)[args.skip:args.skip + args.count]
    side, rows = 130, (len(wrong) + 7) // 8
    page = Image.new("RGB", (8 * side, rows * (side + 10)), (90, 90, 90))
    draw = ImageDraw.Draw(page)
    for k, j in enumerate(wrong):
        img = Image.open(pics[j]).convert("RGB")
        img = img.resize([max(1, round(120 * s / max(img.size))) for s in img.size])
        x, y = (k % 8) * side, (k // 8) * (side + 10)
        page.paste(img, (x, y + 14))
        draw.text((x + 2, y), str(k), fill=(255, 255, 0))
    OUT.mkdir(parents=True, exist_ok=True)
    page.save(OUT / f"{args.kind}.png")
    key = {"digits": (first + wrong).tolist(), "label": labels[wrong].tolist(),
           "model": preds[wrong].tolist()}
    (OUT / f"{args.kind}.json").write_text(json.dumps(key))
    print(f"{len(wrong)} mistakes of {args.limit} on {OUT / args.kind}.png")


def score(args) -> None:
    key = json.loads((OUT / f"{args.kind}.json").read_text())
    if len(args.answers) != len(key["label"]):
        sys.exit(f"{len(args.answers)} answers for {len(key['label'])} pictures")
    mine = np.array(args.answers)
    right, agree = mine == key["label"], (mine == key["model"]) & (mine != key["label"])
    print(f"{args.kind}: the reader read {right.sum()} of the model's {len(mine)} mistakes "
          f"right; of the rest, {agree.sum()} as the model did")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("study", choices=["gaps", "sheet", "score"])
    p.add_argument("--kind", default="broken", choices=list(ff.KINDS))
    p.add_argument("--limit", type=int, default=2000, help="the last N training digits")
    p.add_argument("--skip", type=int, default=0, help="sheet: leave out the first N mistakes")
    p.add_argument("--count", type=int, default=48, help="sheet: at most N mistakes")
    p.add_argument("--answers", type=int, nargs="+", help="score: the reader's digits")
    p.add_argument("--weights", default="weights/reader.pth")
    args = p.parse_args()
    {"gaps": gaps, "sheet": sheet, "score": score}[args.study](args)


if __name__ == "__main__":
    main()
