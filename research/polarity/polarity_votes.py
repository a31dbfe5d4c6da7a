"""How often the photo pipeline takes the ink for the paper, per frame-filling kind, and two
ways tried to do better (issue 22; on training digits, where the pipeline's rules are tuned).

  votes   the vote as it was (labelled "today": the border if 3/4 of it is one side, else the
          side in more pieces) and 20 variants of its thresholds, then six with a third cue
          (--structure): the side alone reaching all four sides of the picture is the ink, or
          the side more even in width ("even tie, border>=0.25" is ink.vote since); pictures
          inverted per kind
  reader  the reading model chooses on the vote's close calls, or on every two-tone
          picture: it reads both polarities and keeps the surer answer; accuracy per kind

Run: python research/polarity/polarity_votes.py votes --limit 2000
     python research/polarity/polarity_votes.py votes --limit 2000 --structure even
     python research/polarity/polarity_votes.py reader --limit 1000 --kinds thick bold
"""
import argparse
import itertools
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import benchmarks.frame_filling as ff  # noqa: E402
from mnist_digits.data import load_mnist  # noqa: E402
from mnist_digits.errors import MnistError  # noqa: E402
from mnist_digits.lesson import DATA_DIR  # noqa: E402
from mnist_digits.reading import READER_WEIGHTS, ink  # noqa: E402
from mnist_digits.reading import photo as pp  # noqa: E402
from mnist_digits.reading.images import to_gray  # noqa: E402
from mnist_digits.reading.predict import load_model, predict  # noqa: E402
from mnist_digits.reading.strokes import unevenness  # noqa: E402

KINDS = [k for k in ff.KINDS if k != "mnist"]


def pictures(kind: str, limit: int):
    """(flattened grey picture, ink is light?, label) for the last `limit` training digits."""
    images, labels = load_mnist(ROOT / DATA_DIR, train=True)
    chose, polarity = [], ff.polarity
    ff.polarity = lambda x, rng: chose.append((out := polarity(x, rng)) is x) or out
    try:
        for i, (digit, label) in enumerate(zip(images[-limit:].numpy(), labels[-limit:].numpy(),
                                               strict=True)):
            chose.clear()
            img = ff.make(kind, digit, np.random.default_rng([0, i, list(ff.KINDS).index(kind)]))
            yield ink.flatten_background(pp.shrink(to_gray(img))), bool(chose and chose[0]), label
    finally:
        ff.polarity = polarity


def spans(mask: np.ndarray) -> bool:
    """The mask reaches all four sides of the picture (as the ink of a tight crop does)."""
    return bool(mask[0].any() and mask[-1].any() and mask[:, 0].any() and mask[:, -1].any())


def votes(x: np.ndarray, structure: str = "spans") -> tuple[float, int, int]:
    """The border's light share minus 1/2, light pieces minus dark pieces, and a third vote
    (`structure`): whether the dark side alone spans the picture (1), the light side alone (-1),
    or both or neither (0); or which side is the more even in width (dark 1, light -1)."""
    light = x > ink.otsu(x)
    if structure == "even":
        third = int(np.sign(unevenness(light) - unevenness(~light)))
    else:
        third = int(spans(~light)) - int(spans(light))
    return ink.frame(light).mean() - 0.5, ink.pieces_of(light) - ink.pieces_of(~light), third


def variant(border_at: float, pieces_at: int, sign: bool, span: str = ""):
    """A vote: paper light (True), dark (False), or None (the heavier tail decides). span:
    the side that alone reaches all four sides is the ink, "first" (before the pieces) or
    "tie" (when the pieces tie)."""
    def rule(b: float, v: int, s: int = 0):
        if abs(b) >= border_at:
            return b > 0
        if span == "first" and s:
            return s > 0
        if abs(v) >= pieces_at:
            return v > 0
        if sign and b:
            return b > 0
        if span == "tie" and s and not v:
            return s > 0
        return v > 0 if v else None
    return rule


def run_votes(limit: int, kinds, structure: str) -> None:
    rules = {"today": variant(0.25, 1, False)} | ({} if structure == "even" else {
        f"border>={b} pieces>={p} sign={s}": variant(b, p, s)
        for b, p, s in itertools.product((0.25, 0.3, 0.35, 0.4, 0.45), (2, 3), (True, False))}) | {
        f"{structure} {span}, border>={b}": variant(b, 1, False, span)
        for span, b in itertools.product(("first", "tie"), (0.25, 0.35, 0.45))}
    wrong = {name: Counter() for name in rules}
    for kind in kinds:
        for x, light_ink, _ in pictures(kind, limit):
            now = np.corrcoef(ink.ink_on_black(x).ravel(), x.ravel())[0, 1] > 0  # light as ink
            b, v, s = votes(x, structure) if ink.two_tone(x) else (0.0, 0, 0)
            for name, rule in rules.items():
                paper_light = rule(b, v, s) if ink.two_tone(x) else None
                took_light = now if paper_light is None else not paper_light
                wrong[name][kind] += int(took_light != light_ink)
        print(f"{kind}: today {wrong['today'][kind]} of {limit} inverted", flush=True)
    for name, counts in wrong.items():
        print(f"{name:32} {sum(counts.values()):4} inverted  {dict(counts)}")


def reading(model, meta, y) -> np.ndarray:
    try:
        digit = pp.center_by_mass(pp.fit_20px(pp.thicken(pp.crop_to_ink(ink.find_digit(y)))))
    except MnistError:
        return np.zeros(10)
    return predict(model, meta, digit[None])[0]


def run_reader(limit: int, kinds) -> None:
    model, meta = load_model(ROOT / READER_WEIGHTS)
    for kind in kinds:
        right = Counter()
        for x, _, label in pictures(kind, limit):
            today = reading(model, meta, ink.ink_on_black(x)).argmax() == label
            surer = today
            if ink.two_tone(x):
                light = x > ink.otsu(x)
                both = [reading(model, meta, y) for y in
                        (x - np.median(x[~light]), np.median(x[light]) - x)]
                surer = max(both, key=np.max).argmax() == label
            b, v, _ = votes(x)
            close = ink.two_tone(x) and (abs(b) < 0.25 or (abs(b) < 0.45 and v * b < 0))
            right.update(today=int(today), close=int(surer if close else today), every=int(surer))
        print(f"{kind}: today {100 * right['today'] / limit:.2f}%  the reader on close calls "
              f"{100 * right['close'] / limit:.2f}%  on every two-tone picture "
              f"{100 * right['every'] / limit:.2f}%", flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("study", choices=["votes", "reader"])
    p.add_argument("--limit", type=int, default=1000, help="the last N training digits")
    p.add_argument("--kinds", nargs="+", choices=KINDS, default=KINDS)
    p.add_argument("--structure", choices=["spans", "even"], default="spans",
                   help="votes: the third vote, the side reaching all four sides of the picture "
                   "or the side more even in width, is the ink")
    args = p.parse_args()
    if args.study == "votes":
        run_votes(args.limit, args.kinds, args.structure)
    else:
        run_reader(args.limit, args.kinds)
