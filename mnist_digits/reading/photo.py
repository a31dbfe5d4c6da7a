"""Any image of one handwritten digit -> a 28x28 MNIST-like array, made the way MNIST was:
grey -> lighting flattened -> ink bright on black -> soft ink (Otsu, no specks) -> cropped ->
thin strokes thickened -> longer side 20 px -> 28x28 with the centre of mass at (14, 14)."""
import numpy as np
import torch
from PIL import Image
from scipy import ndimage

from ..errors import MnistError
from ..lesson import normalise
from .images import WORK_SIDE, load_bytes, load_image, to_gray
from .ink import find_digit, flatten_background, ink_on_black

SIZE, FIT, CENTER = 28, 20, 14.0  # MNIST: 28x28 field, 20x20 box, centre of mass at (14, 14)
MIN_STROKE = 2.0  # px at the 20-px scale; MNIST strokes are 2.0-3.8 px (5th-95th percentile)


def shrink(gray: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """Area-average down so the longer side is at most `side` pixels."""
    h, w = gray.shape
    if max(h, w) <= side:
        return gray
    s = side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return np.asarray(Image.fromarray(gray.astype(np.float32)).resize(size, Image.BOX))


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The bounding box of the non-zero pixels."""
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if not rows.size:
        raise MnistError("no digit found: the image has no ink.")
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def stroke_width(mask: np.ndarray) -> float:
    """About how wide the strokes of a non-empty ink mask are, in its own pixels."""
    return 4 * ndimage.distance_transform_edt(mask)[mask].mean() - 2


def thicken(crop: np.ndarray, min_stroke: float = MIN_STROKE) -> np.ndarray:
    """Grow strokes that would be thinner than min_stroke px once scaled to FIT px (pen lines
    in a large photo); MNIST-thick strokes are returned unchanged."""
    mask = crop > 0.5
    if not mask.any():
        return crop
    r = (min_stroke * max(crop.shape) / FIT - stroke_width(mask)) / 2
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
    return center_by_mass(fit_20px(thicken(crop_to_ink(find_digit(x)))))


def prepare(source, name: str = "upload") -> np.ndarray:
    """An image file's path, or its bytes (an upload, read in memory) -> the (28, 28) digit;
    every MnistError names the file."""
    name = name if isinstance(source, bytes) else str(source)
    img = load_bytes(source, name) if isinstance(source, bytes) else load_image(source)
    try:
        return to_mnist(img)
    except MnistError as e:
        raise MnistError(f"{name}: {e}") from None
    except (ValueError, np.linalg.LinAlgError) as e:  # degenerate pixels: one file, not all
        raise MnistError(f"{name}: could not be processed ({e}). Re-save it as an ordinary "
                         f"8-bit PNG or JPEG.") from None


def to_tensor(digits: np.ndarray, mean: float, std: float) -> torch.Tensor:
    """(28, 28) or (N, 28, 28) in [0, 1] -> (N, 1, 28, 28) float32: the lesson's normalise."""
    return normalise(torch.as_tensor(np.asarray(digits, np.float32)).reshape(-1, SIZE, SIZE),
                     mean, std)
