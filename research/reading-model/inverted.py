"""Issue 22's third reading-model pilot: the `reader` recipe with a fourth style, `inverted`:
the paper read as ink, as the photo pipeline sees a tight crop of a thick digit whose polarity
it got wrong (the ink's box, bright, with the digit cut out of it). Everything else unchanged.
Run from the repository root:

    python research/reading-model/inverted.py --out runs/reader-inverted.pth
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from mnist_digits import lesson  # noqa: E402
from mnist_digits.cli import main as cli  # noqa: E402


def inverted(ink, generator):
    """The ink's box (where ink > 0.2 spans rows and columns) with the ink taken out of it."""
    rows, cols = (ink > 0.2).any(3, keepdim=True), (ink > 0.2).any(2, keepdim=True)

    def span(m):  # everything between the first and the last True, along the last-but-one axis
        return (m.cumsum(-2) > 0) & (m.flip(-2).cumsum(-2).flip(-2) > 0)

    box = span(rows) & span(cols.transpose(-1, -2)).transpose(-1, -2)
    return box.float() * (1 - ink)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    args = p.parse_args()
    lesson.ink_styles.__defaults__ = (lesson.STYLES + (inverted,),)
    sys.exit(cli(["train", "--model", "reader", "--out", args.out]))
