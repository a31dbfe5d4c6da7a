"""Any image of one handwritten digit -> a 28x28 MNIST-like array, made the way MNIST was:
grey -> lighting flattened -> ink bright on black -> soft ink (Otsu, no specks) -> cropped ->
thin strokes thickened -> longer side 20 px -> 28x28 with the centre of mass at (14, 14)."""
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from .errors import MnistError

MAX_PIXELS = 40_000_000  # larger images are refused as possible decompression bombs
WORK_SIDE = 1024  # images are shrunk to this longer side before the pixel work
SIZE, FIT, CENTER = 28, 20, 14.0  # MNIST: 28x28 field, 20x20 box, centre of mass at (14, 14)
MIN_STROKE = 2.0  # px at the 20-px scale; MNIST strokes are 2.0-3.8 px (5th-95th percentile)


def load_image(path) -> Image.Image:
    """Open and fully decode one still image, EXIF orientation applied; MnistError naming path."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not an image" if path.is_dir() else "no such file"
        raise MnistError(f"{path}: {what}. Check the path.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                check_frames(path, img)
                img.load()  # decode now, so a truncated file fails here
                return ImageOps.exif_transpose(img)
    except MnistError:
        raise
    except PermissionError:
        raise MnistError(f"{path}: permission denied. Check the file's permissions.") from None
    except UnidentifiedImageError:
        raise MnistError(f"{path}: not an image Pillow can read (PNG, JPEG, BMP, GIF, TIFF, "
                         f"WebP...). Export the picture in one of those formats.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MnistError(f"{path}: too many pixels (over {MAX_PIXELS:,}); refused as a possible "
                         f"decompression bomb. Resize the picture first.") from None
    except Exception as e:  # Pillow's decoders raise OSError, ValueError, EOFError, ...
        raise MnistError(f"{path}: could not be decoded, the file is truncated or damaged "
                         f"({type(e).__name__}: {e}). Re-save or re-copy it.") from None


def check_frames(path: Path, img: Image.Image) -> None:
    """Refuse oversized and multi-frame images (phone MPO photos keep their first frame)."""
    if img.width * img.height > MAX_PIXELS:
        raise Image.DecompressionBombError(f"{img.width}x{img.height}")
    if getattr(img, "n_frames", 1) > 1 and img.format != "MPO":
        raise MnistError(f"{path}: animated image ({img.n_frames} frames): save one frame "
                         f"as a still PNG or JPEG.")


def to_gray(img: Image.Image) -> np.ndarray:
    """Grey levels in [0, 1] (float32); transparency is laid on paper (see on_paper)."""
    if img.mode.startswith(("I", "F")):  # 16/32-bit integer or float: stretch to [0, 1]
        x = np.nan_to_num(np.asarray(img, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        return (x - x.min()) / max(float(x.max() - x.min()), 1e-12)
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = np.asarray(img.convert("RGBA"), np.float32) / 255
        return on_paper(rgba[..., :3] @ np.float32([0.299, 0.587, 0.114]), rgba[..., 3])
    try:
        return np.asarray(img.convert("L"), np.float32) / 255
    except ValueError:  # modes with no direct route to L (LAB, HSV)
        return np.asarray(img.convert("RGB").convert("L"), np.float32) / 255


def on_paper(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite onto a flat paper. Mostly opaque: a photo with clear margins, so the paper is
    the opaque pixels' median. Mostly clear: strokes on transparency (white or black ink), so
    the paper is white under dark strokes and black under light ones."""
    opaque = alpha > 0.5
    if opaque.all() or not opaque.any():
        return gray if opaque.all() else np.ones_like(gray)
    strokes = float(np.median(gray[opaque]))
    paper = strokes if opaque.mean() > 0.5 else float(strokes < 0.5)
    return gray * alpha + paper * (1 - alpha)


def shrink(gray: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """Area-average down so the longer side is at most `side` pixels."""
    h, w = gray.shape
    if max(h, w) <= side:
        return gray
    s = side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return np.asarray(Image.fromarray(gray.astype(np.float32)).resize(size, Image.BOX))


def robust_sigma(x: np.ndarray) -> float:
    """Noise level from the median absolute deviation (ignores the ink minority)."""
    return 1.4826 * float(np.median(np.abs(x - np.median(x))))


def flatten_background(gray: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Subtract uneven lighting: a quadratic surface fitted to the paper, ink pixels left out
    as outliers. Returns the residual: paper about 0, ink clearly above or below it."""
    h, w = gray.shape
    step = max(1, max(h, w) // 64)
    ys, xs = np.mgrid[0:h:step, 0:w:step] / max(h, w)
    a = np.stack([t.ravel() for t in quadratic(ys, xs)], 1)
    b = gray[::step, ::step].ravel()
    keep = near_median(b, np.ones(b.shape, bool))  # first guess: the commonest grey
    for _ in range(rounds):
        coef = np.linalg.lstsq(a[keep], b[keep], rcond=None)[0]
        keep = near_median(b - a @ coef, keep)
    y, x = np.arange(h)[:, None] / max(h, w), np.arange(w)[None, :] / max(h, w)
    background = sum(c * t for c, t in zip(coef, quadratic(y, x), strict=True))
    return (gray - background).astype(np.float32)


def near_median(r: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Pixels within 3 sigma of the kept pixels' median: the paper, not the ink."""
    return np.abs(r - np.median(r[keep])) <= max(3 * robust_sigma(r[keep]), 0.02)


def quadratic(y, x) -> list:
    return [np.ones_like(x * y), x, y, x * x, x * y, y * y]


def ink_on_black(x: np.ndarray) -> np.ndarray:
    """Background to 0 and ink positive: the ink is the heavier tail beyond 3 sigma."""
    d = x - np.median(x)
    t = 3 * max(robust_sigma(d), 1e-3)
    return d if d[d > t].sum() >= -d[d < -t].sum() else -d


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


def find_ink(x: np.ndarray) -> np.ndarray:
    """Soft ink in [0, 1] from bright-on-black x: Otsu mask, specks dropped, antialiased edges
    kept. Raises MnistError('no digit found') when nothing stands out of the noise."""
    sigma = robust_sigma(x)
    t = max(otsu(x), 3 * sigma)
    mask = x > t
    level = float(np.percentile(x[mask], 90)) if mask.any() else 0.0
    mask = drop_specks(mask)
    if level < max(0.05, 6 * sigma) or mask.sum() < 10:
        raise MnistError("no digit found: nothing stands out from the background. Use a "
                         "photo or scan of one dark digit on light paper (or light on dark).")
    low = min(max(t / 2, 3 * sigma), 0.9 * t)
    soft = np.clip((x - low) / (level - low), 0, 1)
    return (soft * ndimage.binary_dilation(mask, iterations=2)).astype(np.float32)


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The bounding box of the non-zero pixels."""
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if not rows.size:
        raise MnistError("no digit found: the image has no ink.")
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def thicken(crop: np.ndarray, min_stroke: float = MIN_STROKE) -> np.ndarray:
    """Grow strokes that would be thinner than min_stroke px once scaled to FIT px (pen lines
    in a large photo); MNIST-thick strokes are returned unchanged."""
    mask = crop > 0.5
    if not mask.any():
        return crop
    width = 4 * ndimage.distance_transform_edt(mask)[mask].mean() - 2  # ~ stroke width in px
    r = (min_stroke * max(crop.shape) / FIT - width) / 2
    if r < 0.5:
        return crop
    pad = int(np.ceil(r)) + 1
    crop, mask = np.pad(crop, pad), np.pad(mask, pad)
    grown = np.clip(r + 1 - ndimage.distance_transform_edt(~mask), 0, 1)
    return crop_to_ink(np.maximum(crop, grown).astype(np.float32))


def fit_20px(crop: np.ndarray, box: int = FIT) -> np.ndarray:
    """Longer side to `box` px, aspect kept, antialiased (Lanczos); brightest pixel to 1."""
    h, w = crop.shape
    s = box / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    out = np.clip(np.asarray(Image.fromarray(crop.astype(np.float32)).resize(
        size, Image.LANCZOS)), 0, 1)
    return out / out.max() if out.max() > 0 else out


def center_by_mass(digit: np.ndarray, size: int = SIZE, center: float = CENTER) -> np.ndarray:
    """Paste into size x size so the centre of mass lands on (center, center), whole pixels."""
    h, w = digit.shape
    cy, cx = ndimage.center_of_mass(digit)
    top = int(np.clip(round(center - cy), 0, size - h))
    left = int(np.clip(round(center - cx), 0, size - w))
    out = np.zeros((size, size), np.float32)
    out[top:top + h, left:left + w] = digit
    return out


def to_mnist(img: Image.Image) -> np.ndarray:
    """A PIL image of one digit -> (28, 28) float32 in [0, 1], white ink on black."""
    x = ink_on_black(flatten_background(shrink(to_gray(img))))
    return center_by_mass(fit_20px(thicken(crop_to_ink(find_ink(x)))))


def prepare(path) -> np.ndarray:
    """load_image + to_mnist; every MnistError names the file."""
    img = load_image(path)
    try:
        return to_mnist(img)
    except MnistError as e:
        raise MnistError(f"{path}: {e}") from None
    except (ValueError, np.linalg.LinAlgError) as e:  # degenerate pixels: one file, not all
        raise MnistError(f"{path}: could not be processed ({e}). Re-save it as an ordinary "
                         f"8-bit PNG or JPEG.") from None


def to_tensor(digits: np.ndarray, mean: float, std: float) -> torch.Tensor:
    """(28, 28) or (N, 28, 28) in [0, 1] -> (N, 1, 28, 28) float32, training normalisation."""
    x = torch.as_tensor(np.asarray(digits, np.float32)).reshape(-1, 1, SIZE, SIZE)
    return (x - mean) / std
