"""The shape of strokes: their one-pixel middle lines, and how evenly wide a shape is along
them (a pen draws strokes of one width; the paper between them is corners, holes and margins)."""
import numpy as np
from scipy import ndimage


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang and Suen's thinning (1984): a binary shape peeled to its one-pixel middle lines,
    still connected."""
    m = np.pad(mask.astype(bool), 1)
    around = [(1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1)]  # N, NE, ... NW
    while True:
        changed = False
        for step in (0, 1):
            p = [np.roll(m, shift, (0, 1)) for shift in around]
            filled = sum(q.astype(int) for q in p)
            turns = sum((~p[i] & p[(i + 1) % 8]).astype(int) for i in range(8))
            n, e, s, w = p[0], p[2], p[4], p[6]
            keep = (n & e & s) | (e & s & w) if step == 0 else (n & e & w) | (n & s & w)
            peel = m & (filled >= 2) & (filled <= 6) & (turns == 1) & ~keep
            m &= ~peel
            changed |= bool(peel.any())
        if not changed:
            return m[1:-1, 1:-1]


def unevenness(mask: np.ndarray) -> float:
    """How much a shape's width varies along its middle lines: the spread of the distance to
    its edge there over its mean (0: one width). The picture's edge is not the shape's edge."""
    if mask.all() or not mask.any():
        return 0.0
    depth = ndimage.distance_transform_edt(np.pad(mask, 1, mode="edge"))[1:-1, 1:-1]
    ridge = depth[thin(mask)]
    return float(ridge.std() / ridge.mean())
