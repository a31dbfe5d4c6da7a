"""Finding the ink: the paper and its noise measured on what is not ink, uneven light
flattened, the ink made bright on black, and soft ink cut out, or a clear 'no digit found'.
Robust to digits that fill their frame: tight crops, thick pens, bitmaps, faint pens."""
import numpy as np
from scipy import ndimage

from ..errors import MnistError
from .strokes import unevenness


def robust_sigma(x: np.ndarray) -> float:
    """Noise level from the median absolute deviation (ignores an outlying minority)."""
    return 1.4826 * float(np.median(np.abs(x - np.median(x))))


def pixel_noise(x: np.ndarray) -> float:
    """Noise level from differences of neighbouring pixels: ink, antialiased edges and uneven
    light are smooth, so they barely move the median difference, however much of it there is."""
    d = [np.abs(np.diff(x, axis=a)) for a in (0, 1) if x.shape[a] > 1]  # per axis: a thin
    return min(1.4826 * float(np.median(v)) / np.sqrt(2) for v in d) if d else 0.0  # stroke


def frame(x: np.ndarray) -> np.ndarray:
    """The picture's outermost pixels: mostly paper, even in a tight crop of a digit."""
    return np.concatenate([x[0], x[-1], x[1:-1, 0], x[1:-1, -1]])


def near(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Pixels of x within 3 sigma (at least 0.02) of ref's median: ref's kind of pixel."""
    return np.abs(x - np.median(ref)) <= max(3 * robust_sigma(ref), 0.02)


def border_split(x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The border's pixels, the Otsu threshold, and the share of the border above it."""
    edge, t = frame(x), otsu(x)
    return edge, t, float((edge > t).mean())


def border_paper(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The paper on the border (a digit, however tight the crop, rarely covers half of it):
    (seed, side). When 3/4 of the border lies on one side of the Otsu threshold (two tones:
    paper, and ink touching the border), side is that side and seed its half farthest from
    the threshold (flat paper, not the antialiased edges of strokes); otherwise (Otsu split
    the paper's shading) both are the whole border."""
    edge, t, light = border_split(x)
    if max(light, 1 - light) < 0.75:
        return edge, edge
    side = edge[edge > t] if light >= 0.5 else edge[edge <= t]
    return side[np.abs(side - t) >= np.median(np.abs(side - t))], side


def paper_mask(x: np.ndarray, rounds: int = 3) -> np.ndarray:
    """The paper, not the ink: near the border's paper, then refined from the paper found.
    Noise and background are measured on these pixels, so a digit filling much of the
    frame cannot hide them."""
    seed, side = border_paper(x)
    keep = np.abs(x - np.median(seed)) <= max(3 * robust_sigma(side), 0.02)
    for _ in range(rounds):
        keep = near(x, x[keep])
    return keep


def flatten_background(gray: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Subtract uneven lighting: a quadratic surface fitted to the paper (a flat level when
    the paper is under half the picture, or when a two-toned picture or border gave no paper
    apart from the ink: a quadratic could fit a stroke). Returns the residual: paper about 0, ink
    clearly above or below it."""
    h, w = gray.shape
    step = max(1, max(h, w) // 64)
    ys, xs = np.mgrid[0:h:step, 0:w:step] / max(h, w)
    sample = gray[::step, ::step]
    keep = paper_mask(sample).ravel()
    light = border_split(sample)[2]
    lost = keep.mean() >= 0.98 and (max(light, 1 - light) >= 0.75 or two_tone(sample))
    terms = 6 if keep.mean() >= 0.5 and keep.sum() >= 50 and not lost else 1
    a = np.stack([t.ravel() for t in quadratic(ys, xs)[:terms]], 1)
    b = sample.ravel()
    for _ in range(rounds):
        coef = np.linalg.lstsq(a[keep], b[keep], rcond=None)[0]
        keep = near(b - a @ coef, (b - a @ coef)[keep])
    y, x = np.arange(h)[:, None] / max(h, w), np.arange(w)[None, :] / max(h, w)
    background = sum(c * t for c, t in zip(coef, quadratic(y, x), strict=False))
    return (gray - background).astype(np.float32)


def quadratic(y, x) -> list:
    return [np.ones_like(x * y), x, y, x * x, x * y, y * y]


def ink_on_black(x: np.ndarray) -> np.ndarray:
    """Paper to 0 and ink positive. When the picture is two tones (the Otsu split's sides
    differ by 6 times their spread), `vote` tells the paper: the side holding most of the
    border, or, when neither holds 3/4 of it (a thick digit filling the frame), the side in
    more pieces (corners and holes), else the side less even in width. Otherwise, or on a
    tie, the ink is the heavier tail beyond 3 sigma."""
    paper = paper_mask(x)
    d, sigma = x - np.median(x[paper]), max(robust_sigma(x[paper]), 1e-3)
    light = x > otsu(x)
    if two_tone(x) and (paper := vote(light)):
        return np.median(x[light]) - x if paper > 0 else x - np.median(x[~light])
    return d if d[d > 3 * sigma].sum() >= -d[d < -3 * sigma].sum() else -d


def vote(light: np.ndarray) -> float:
    """Which side of a two-tone picture is the paper: > 0 the light side, < 0 the dark, 0 a
    tie. The side holding 3/4 of the border; else the side in more pieces; else the side less
    even in width (looked at 64 px across at most)."""
    border = frame(light).mean() - 0.5
    if abs(border) >= 0.25:
        return border
    step = max(1, max(light.shape) // 64)  # thinning 1,000 px would take seconds
    small = light[::step, ::step]
    return (pieces_of(light) - pieces_of(~light)
            or float(np.sign(unevenness(small) - unevenness(~small))))


def two_tone(x: np.ndarray) -> bool:
    """The two sides of the Otsu split differ by 6 times the spread of the flatter one: ink
    and paper, not one shade of paper split in two."""
    light = x > otsu(x)
    if light.all() or not light.any():
        return False
    spread = max(min(robust_sigma(x[light]), robust_sigma(x[~light])), 0.01)
    return float(np.median(x[light]) - np.median(x[~light])) >= 6 * spread


def pieces_of(mask: np.ndarray) -> int:
    """Connected parts at least 5% the size of the largest."""
    return int(drop_specks(mask).any() and ndimage.label(drop_specks(mask), np.ones((3, 3)))[1])


def otsu(x: np.ndarray, bins: int = 256) -> float:
    """The threshold that best splits x into two classes (Otsu 1979)."""
    hist, edges = np.histogram(x, bins)
    sums = np.cumsum(hist * (edges[:-1] + edges[1:]) / 2)
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    between = w0 * w1 * (sums / np.maximum(w0, 1) - (sums[-1] - sums) / np.maximum(w1, 1)) ** 2
    return float(edges[np.argmax(between) + 1])


def drop_specks(mask: np.ndarray, keep: float = 0.05) -> np.ndarray:
    """Keep the connected parts at least `keep` times the size of the largest one."""
    labels, n = ndimage.label(mask, np.ones((3, 3)))
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return (sizes >= keep * sizes.max())[labels] & mask


SOFT_FLOOR = 0.5  # soft ink starts at this share of the Otsu threshold (3 noise sigmas at least)


def find_ink(x: np.ndarray, sigma: float, floor: float = SOFT_FLOOR) -> np.ndarray:
    """Soft ink in [0, 1] from bright-on-black x with noise sigma: Otsu mask, specks dropped,
    antialiased edges kept. MnistError('no digit found') when nothing stands out."""
    t = max(otsu(x), 3 * sigma)
    mask = x > t
    level = float(np.percentile(x[mask], 90)) if mask.any() else 0.0
    mask = drop_specks(mask)
    if not stands_out(mask, level, sigma):
        raise MnistError("no digit found: nothing stands out from the background. Use a "
                         "photo or scan of one dark digit on light paper (or light on dark).")
    low = min(max(floor * t, 3 * sigma), 0.9 * t)
    soft = np.clip((x - low) / (level - low), 0, 1)
    return (soft * ndimage.binary_dilation(mask, iterations=2)).astype(np.float32)


def find_digit(x: np.ndarray) -> np.ndarray:
    """find_ink with the paper's noise, in the polarity ink_on_black chose, then in the other
    (a digit covering most of the border looks like paper); then the whole picture if what
    is not ink is a few specks at its border (a thick '1' cropped tight); then find_ink with
    the noise between neighbouring pixels (too little paper to measure). Else the first
    error: no digit."""
    errors = []
    for sigma in (robust_sigma(x[paper_mask(x)]), None):
        if sigma is None:
            sigma = pixel_noise(x)
            for y in (x, -x):
                if (ink := filled_frame(y)) is not None:
                    return ink
        for y in (x, -x):
            try:
                return find_ink(y, sigma)
            except MnistError as e:
                errors.append(e)
    raise errors[0]


def filled_frame(y: np.ndarray) -> np.ndarray | None:
    """All but the bright specks of y as ink, when the specks are under a fifth of the
    picture, stand out clearly, and all touch its border (the paper's corners beside a bar
    that fills the frame); else None."""
    specks = y > otsu(y)
    labels, n = ndimage.label(specks)
    if not n or specks.mean() >= 0.2:
        return None
    contrast = float(np.percentile(y[specks], 90) - np.median(y))
    if contrast >= max(0.03, 6 * pixel_noise(y)) and set(frame(labels)) >= set(range(1, n + 1)):
        return (~specks).astype(np.float32)
    return None


def stands_out(mask: np.ndarray, level: float, sigma: float) -> bool:
    """A digit: 10 ink pixels at least 0.03 above the paper and 6 noise sigmas, or 3.5 sigmas
    when its largest stroke covers 1% of the picture (noise never joins into a blob that
    large)."""
    if level < 0.03 or mask.sum() < 10:
        return False
    labels, n = ndimage.label(mask, np.ones((3, 3)))
    largest = np.bincount(labels.ravel())[1:].max()
    return level >= 6 * sigma or (level >= 3.5 * sigma and largest >= 0.01 * mask.size)
