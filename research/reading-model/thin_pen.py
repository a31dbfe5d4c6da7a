"""A pilot for issue 22's thin pens: the reading model trained with the notebook's `broken`
style replaced by a thin pen that skips (strokes thinned to about 1.5 px, then three 3x3 holes
on them), everything else the `reader` recipe. Run from the repository root:

    python research/reading-model/thin_pen.py --out runs/reader-thin.pth

Then: python benchmarks/frame_filling.py --split val --limit 1000 --choose \\
          --weights weights/reader.pth runs/reader-thin.pth
"""
import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from mnist_digits import lesson  # noqa: E402
from mnist_digits.cli import main as cli  # noqa: E402


def erode(x):
    return -F.max_pool2d(-x, 3, stride=1, padding=1)


def dilate(x):
    return F.max_pool2d(x, 3, stride=1, padding=1)


def skeleton(mask, rounds: int = 6):
    """Soft morphological skeleton of a 0/1 mask (Shit et al., clDice, CVPR 2021)."""
    skel = F.relu(mask - dilate(erode(mask)))
    for _ in range(rounds):
        mask = erode(mask)
        delta = F.relu(mask - dilate(erode(mask)))
        skel = skel + F.relu(delta - skel * delta)
    return skel


def thin_broken(ink, generator):
    """Strokes thinned to about 1.5 px (a skeleton at 2x scale, 3 px wide), broken in three
    places: a thin pen that skips."""
    big = F.interpolate(ink, scale_factor=2, mode="bilinear", align_corners=False)
    thin = F.avg_pool2d(dilate(skeleton((big > 0.4).float())), 2)
    thin = thin / thin.amax((2, 3), keepdim=True).clamp(min=1e-6)
    return thin * (1 - lesson.gaps(thin, generator))


def thicker_or_thickest(ink, generator):
    """Strokes 2 or 4 px thicker, half the digits each: a marker or a broad one."""
    coin = torch.rand(len(ink), 1, 1, 1, generator=generator, device=ink.device) < 0.5
    return torch.where(coin, F.max_pool2d(ink, 3, 1, 1), F.max_pool2d(ink, 5, 1, 2))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--thickest", action="store_true",
                   help="also draw half the thick digits 4 px thicker instead of 2")
    args = p.parse_args()
    thick = thicker_or_thickest if args.thickest else lesson.thicker
    lesson.ink_styles.__defaults__ = ((thick, lesson.stretched, thin_broken),)
    sys.exit(cli(["train", "--model", "reader", "--out", args.out]))
