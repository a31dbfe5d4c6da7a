"""Issue 22's second reading-model pilot: the `reader` recipe with half the thick digits drawn
4 px thicker instead of 2 (the notebook's `thicker`), everything else unchanged. Run from the
repository root:

    python research/reading-model/thickest.py --out runs/reader-thin-thick.pth

The first pilot, the thin pen that skips, is the notebook's `broken` since it was adopted (at
b85e8cf it was `research/reading-model/thin_pen.py`; `python -m mnist_digits train --model
reader` trains it now).
"""
import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from mnist_digits import lesson  # noqa: E402
from mnist_digits.cli import main as cli  # noqa: E402


def thicker_or_thickest(ink, generator):
    """Strokes 2 or 4 px thicker, half the digits each: a marker or a broad one."""
    coin = torch.rand(len(ink), 1, 1, 1, generator=generator, device=ink.device) < 0.5
    return torch.where(coin, lesson.thicker(ink, generator), F.max_pool2d(ink, 5, 1, 2))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    args = p.parse_args()
    lesson.ink_styles.__defaults__ = ((thicker_or_thickest, lesson.stretched, lesson.broken),)
    sys.exit(cli(["train", "--model", "reader", "--out", args.out]))
