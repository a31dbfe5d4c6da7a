"""Make the six example digit images in this folder, the same bytes every run (seeded).

The digits are pen strokes: smooth curves through hand-picked control points in a unit box
(x right, y down), each point nudged by a little seeded jitter, drawn with round joins and caps.
No MNIST data and no fonts are used.  Run: python examples/make_examples.py
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

HERE = Path(__file__).resolve().parent
SUPER = 4  # strokes are drawn 4x larger, then area-averaged down (antialiasing)

# Each digit is a list of strokes; each stroke a list of control points in a unit box.
# Sharp corners are where one stroke ends and the next begins.
STROKES = {
    "3": [[(0.18, 0.16), (0.45, 0.03), (0.76, 0.12), (0.74, 0.34), (0.42, 0.48)],
          [(0.42, 0.48), (0.78, 0.60), (0.82, 0.82), (0.50, 0.97), (0.14, 0.86)]],
    "7": [[(0.12, 0.08), (0.50, 0.06), (0.90, 0.05)],
          [(0.90, 0.05), (0.64, 0.50), (0.42, 0.97)]],
    "5": [[(0.84, 0.05), (0.55, 0.05), (0.26, 0.06)],
          [(0.26, 0.06), (0.22, 0.46)],
          [(0.22, 0.46), (0.52, 0.38), (0.80, 0.54), (0.80, 0.80), (0.50, 0.97),
           (0.16, 0.88)]],
    "2": [[(0.14, 0.24), (0.40, 0.03), (0.74, 0.10), (0.78, 0.34), (0.50, 0.64),
           (0.12, 0.95)],
          [(0.12, 0.95), (0.50, 0.93), (0.90, 0.94)]],
    "4": [[(0.16, 0.05), (0.12, 0.58)],
          [(0.12, 0.58), (0.50, 0.57), (0.90, 0.55)],
          [(0.72, 0.10), (0.71, 0.55), (0.70, 0.98)]],
}


def loop_points(n: int = 10) -> list:
    """The '0': an ellipse-like loop, closing with a small overlap like a real pen."""
    t = np.linspace(0.0, 2.0 * np.pi + 0.4, n + 1)
    shrink = 1.0 - 0.04 * t / (2.0 * np.pi)  # the end curls slightly inside the start
    return [(0.5 + 0.38 * k * np.sin(a - 0.3), 0.5 - 0.48 * k * np.cos(a))
            for a, k in zip(t, shrink, strict=True)]


STROKES["0"] = [loop_points()]


def catmull_rom(points: np.ndarray, per_segment: int = 16) -> np.ndarray:
    """A smooth curve through all the points (uniform Catmull-Rom, ends clamped)."""
    if len(points) < 3:
        return points
    p = np.vstack([points[:1], points, points[-1:]])
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (3 * p1 - p0 - 3 * p2 + p3) * t ** 3))
    return np.vstack(out + [p[-2:-1]])


def jittered(digit: str, rng: np.random.Generator, amount: float) -> list:
    """The digit's strokes with every control point nudged; shared stroke ends stay joined."""
    moved = {}
    strokes = []
    for stroke in STROKES[digit]:
        pts = [moved.setdefault(pt, np.array(pt) + rng.normal(0.0, amount, 2)) for pt in stroke]
        strokes.append(np.array(pts))
    return strokes


def place(curve: np.ndarray, center, height: float, angle: float) -> np.ndarray:
    """Unit-box points -> canvas pixels: scaled to `height`, rotated by `angle` degrees."""
    xy = (curve - 0.5) * height
    a = np.deg2rad(angle)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return xy @ rot + np.asarray(center, float)


def centerline(size, curves: list) -> np.ndarray:
    """True on the 1-px centre lines of all the strokes (w x h canvas, pixel coordinates)."""
    img = Image.new("1", size, 0)
    draw = ImageDraw.Draw(img)
    for pts in curves:
        draw.line([tuple(p) for p in pts], fill=1, width=1)
    return np.asarray(img, bool)


def ink_mask(digit: str, size, center, height: float, seed: int, *,
             width: float = 0.07, angle: float = 0.0, jitter: float = 0.012) -> np.ndarray:
    """Soft ink coverage in [0, 1], shape (h, w), of one pen-drawn digit on a w x h canvas.
    Every pixel within width/2 of a centre line is ink: round joins and round caps."""
    rng = np.random.default_rng(seed)
    w, h = size
    big_center = np.asarray(center, float) * SUPER
    curves = [place(catmull_rom(s), big_center, height * SUPER, angle)
              for s in jittered(digit, rng, jitter)]
    dist = ndimage.distance_transform_edt(~centerline((w * SUPER, h * SUPER), curves))
    big = np.clip(width * height * SUPER / 2 + 0.5 - dist, 0, 1).astype(np.float32)
    return np.asarray(Image.fromarray(big).resize((w, h), Image.BOX), np.float32)


def texture(shape, seed: int, blur: float, amount: float) -> np.ndarray:
    """Smooth random paper grain with standard deviation about `amount`."""
    noise = ndimage.gaussian_filter(np.random.default_rng(seed).normal(size=shape), blur)
    return noise / max(float(noise.std()), 1e-9) * amount


def paint(paper, ink, mask: np.ndarray) -> np.ndarray:
    """Lay ink colour over paper colour (both broadcastable to (h, w, c)) by coverage mask."""
    m = mask[..., None]
    return np.asarray(paper, np.float32) * (1 - m) + np.asarray(ink, np.float32) * m


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def photo_3() -> Image.Image:
    """Phone photo: blue-black ink on off-white paper, off-centre, a dim corner, sensor noise."""
    w, h = 480, 360
    mask = ink_mask("3", (w, h), (292, 150), 190, seed=3, width=0.065, angle=-4)
    ys, xs = np.mgrid[0:h, 0:w]
    light = 1.0 - 0.30 * (((w - xs) / w) * (ys / h)) ** 1.2  # bottom-left corner darker
    img = paint((236, 232, 220), (28, 32, 62), mask) * light[..., None]
    img += np.random.default_rng(30).normal(0.0, 4.0, img.shape)
    return Image.fromarray(to_uint8(img), "RGB")


def paint_7() -> Image.Image:
    """Paint program: white brush on black, 280x280, a slight tilt."""
    mask = ink_mask("7", (280, 280), (140, 140), 200, seed=7, width=0.08, angle=7)
    return Image.fromarray(to_uint8(mask * 255), "L")


def scan_5() -> Image.Image:
    """Portrait page scan: a small black 5 in the upper-left quarter, faint paper grain."""
    w, h = 600, 800
    mask = ink_mask("5", (w, h), (160, 210), 150, seed=5, width=0.07, angle=3)
    paper = 246 + np.round(texture((h, w), seed=50, blur=2.0, amount=1.2))
    img = paint(np.repeat(paper[..., None], 3, axis=2), (18, 18, 20), mask)
    return Image.fromarray(to_uint8(img), "RGB")


def marker_0() -> Image.Image:
    """Thick red marker loop on opaque white, saved with an alpha channel."""
    mask = ink_mask("0", (256, 256), (128, 128), 190, seed=10, width=0.10, angle=-6)
    rgb = paint((255, 255, 255), (205, 28, 36), mask)
    alpha = np.full(mask.shape + (1,), 255.0)
    return Image.fromarray(to_uint8(np.concatenate([rgb, alpha], axis=2)), "RGBA")


def pencil_2() -> Image.Image:
    """Light grey pencil on light grey paper; graphite is grainy, so coverage is patchy."""
    mask = ink_mask("2", (320, 320), (165, 158), 220, seed=2, width=0.06, angle=-3)
    grain = np.clip(0.85 + texture(mask.shape, seed=20, blur=0.7, amount=0.12), 0.5, 1.0)
    paper = 212 + texture(mask.shape, seed=21, blur=1.5, amount=1.5)
    return Image.fromarray(to_uint8(paper * (1 - mask * grain) + 105 * mask * grain), "L")


def sticky_4() -> Image.Image:
    """Dark felt-tip 4 on a yellow sticky note, as a 32-colour palette GIF (mode P)."""
    w = h = 200
    mask = ink_mask("4", (w, h), (100, 104), 140, seed=4, width=0.075, angle=2)
    ys = np.mgrid[0:h, 0:w][0]
    shade = 1.0 - 0.08 * (ys / h)[..., None]  # the note curls away at the bottom
    img = paint((252, 232, 110), (34, 34, 44), mask) * shade
    return Image.fromarray(to_uint8(img), "RGB").quantize(32, dither=Image.Dither.NONE)


def main() -> None:
    photo_3().save(HERE / "photo_3.jpg", quality=80)
    paint_7().save(HERE / "paint_7.png", optimize=True)
    scan_5().save(HERE / "scan_5.png", optimize=True)
    marker_0().save(HERE / "marker_0.png", optimize=True)
    pencil_2().save(HERE / "pencil_2.png", optimize=True)
    sticky_4().save(HERE / "sticky_4.gif")
    for p in sorted(HERE.glob("*_[0-9].*")):
        print(f"{p.name:14s} {p.stat().st_size / 1024:6.1f} KB")


if __name__ == "__main__":
    main()
