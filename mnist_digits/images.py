"""The guarded image loader: a file or uploaded bytes -> a decoded Pillow image, or one clear
MnistError naming the input (never a traceback from inside Pillow); then grey levels in [0, 1]."""
import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import MnistError

MAX_PIXELS = 40_000_000  # larger images are refused as possible decompression bombs


def load_image(path) -> Image.Image:
    """Open and fully decode one still image file, EXIF orientation applied."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not an image" if path.is_dir() else "no such file"
        raise MnistError(f"{path}: {what}. Check the path.")
    try:
        return decode(path, path)
    except PermissionError:
        raise MnistError(f"{path}: permission denied. Check the file's permissions.") from None


def load_bytes(data: bytes, name: str = "upload") -> Image.Image:
    """The same for an image held in memory (an upload); nothing is written to disk."""
    if not data:
        raise MnistError(f"{name}: the file is empty. Choose an image file.")
    return decode(io.BytesIO(data), name)


def decode(source, name) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's notes on damaged metadata: not errors
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as img:
                check_frames(name, img)
                img.load()  # decode now, so a truncated file fails here
                return ImageOps.exif_transpose(img)
    except (MnistError, PermissionError):
        raise
    except UnidentifiedImageError:
        raise MnistError(f"{name}: not an image Pillow can read (PNG, JPEG, BMP, GIF, TIFF, "
                         f"WebP...). Export the picture in one of those formats.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MnistError(f"{name}: too many pixels (over {MAX_PIXELS:,}); refused as a possible "
                         f"decompression bomb. Resize the picture first.") from None
    except Exception as e:  # Pillow's decoders raise OSError, ValueError, EOFError, ...
        raise MnistError(f"{name}: could not be decoded, the file is truncated or damaged "
                         f"({type(e).__name__}: {e}). Re-save or re-copy it.") from None


def check_frames(name, img: Image.Image) -> None:
    """Refuse oversized and multi-frame images (phone MPO photos keep their first frame)."""
    if img.width * img.height > MAX_PIXELS:
        raise Image.DecompressionBombError(f"{img.width}x{img.height}")
    if getattr(img, "n_frames", 1) > 1 and img.format != "MPO":
        raise MnistError(f"{name}: animated image ({img.n_frames} frames): save one frame "
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
