"""The guarded image loader: a file or uploaded bytes -> a decoded Pillow image, or one clear
MnistError naming the input (never a traceback from inside Pillow); then grey levels in [0, 1].

Hostile files are expected: only still raster formats are opened, recognised by content (no
decoder that starts another program, such as Ghostscript for EPS), and the pixel count and
decoded size are checked from the header before anything is decoded."""
import io
import stat
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import MnistError

# what cameras, phones, scanners and editors write (JPEG covers phones' MPO); Pillow decodes
# each in-process. EPS (Ghostscript), PDF, SVG and the rest are refused whatever their name.
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")
FORMAT_LIST = "PNG, JPEG, BMP, GIF, TIFF or WebP"
MAX_PIXELS = 40_000_000  # larger images are refused as possible decompression bombs
MAX_DECODED = 128 * 2**20  # bytes one image may take once decoded (as Pillow holds it)
MAX_ASPECT = 100  # a longer side over 100 times the shorter holds no digit (and decodes slowly)
WORK_SIDE = 1024  # images are reduced towards this longer side as soon as they are decoded


def load_image(path) -> Image.Image:
    """Open and fully decode one still image file, EXIF orientation applied."""
    path = Path(path)
    size = check_path(path)
    try:
        return decode(path, path, size)
    except PermissionError:
        raise MnistError(f"{path}: permission denied. Check the file's permissions.") from None


def check_path(path: Path) -> int:
    """The size of a regular, non-empty file; anything else (folder, pipe, broken link) is
    said plainly."""
    try:
        info = path.stat()
    except FileNotFoundError:
        what = "a broken link (what it points to does not exist)" if path.is_symlink() else \
            "no such file"
        raise MnistError(f"{path}: {what}. Check the path.") from None
    except OSError as e:  # a loop of links, a name too long, ...
        raise MnistError(f"{path}: cannot be opened ({e.strerror}). Check the path.") from None
    if stat.S_ISDIR(info.st_mode):
        raise MnistError(f"{path}: is a folder, not an image. Check the path.")
    if not stat.S_ISREG(info.st_mode):  # a pipe would block forever
        raise MnistError(f"{path}: not a regular file (a pipe, socket or device). Save the "
                         f"picture to a file first.")
    if info.st_size == 0:
        raise MnistError(f"{path}: the file is empty. Choose an image file.")
    return info.st_size


def load_bytes(data: bytes, name: str = "upload") -> Image.Image:
    """The same for an image held in memory (an upload); nothing is written to disk."""
    if not data:
        raise MnistError(f"{name}: the file is empty. Choose an image file.")
    return decode(io.BytesIO(data), name, len(data))


def decode(source, name, size: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's notes on damaged metadata: not errors
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=FORMATS) as img:
                check_header(name, img, size)
                with DECODING.take(decoded_bytes(img)):
                    img.load()  # decode now, so a truncated file fails here
                    return ImageOps.exif_transpose(reduce(img))
    except (MnistError, PermissionError):
        raise
    except UnidentifiedImageError:
        raise MnistError(f"{name}: not an image this program reads ({FORMAT_LIST}). Export "
                         f"the picture in one of those formats.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MnistError(f"{name}: too many pixels (over {MAX_PIXELS:,}); refused as a possible "
                         f"decompression bomb. Resize the picture first.") from None
    except Exception as e:  # Pillow's decoders raise OSError, ValueError, EOFError, ...
        raise MnistError(f"{name}: could not be decoded, the file is truncated or damaged "
                         f"({type(e).__name__}: {e}). Re-save or re-copy it.") from None


class Budget:
    """Bytes that the images being decoded at once may take together: a thread whose image
    does not fit waits for others to finish (`serve` decodes in one worker thread today; this
    holds however many a caller uses)."""

    def __init__(self, total: int):
        self.total, self.free, self.changed = total, total, threading.Condition()

    @contextmanager
    def take(self, size: int):
        size = min(size, self.total)  # never wait for more than there is
        with self.changed:
            self.changed.wait_for(lambda: self.free >= size)
            self.free -= size
        try:
            yield
        finally:
            with self.changed:
                self.free += size
                self.changed.notify_all()


DECODING = Budget(MAX_DECODED)  # the largest image alone, or several smaller ones


def decoded_bytes(img: Image.Image) -> int:
    """What the image takes at most while decoded and reduced: Pillow keeps 1 byte a pixel for
    1-bit and grey images and 4 for the rest, and reducing transparency (or a palette, which
    may hold it) makes a premultiplied copy, so those count 8."""
    per_pixel = 1 if img.mode in ("1", "L") else 8 if img.mode in ("RGBA", "LA", "PA", "P") else 4
    return img.width * img.height * per_pixel


def check_header(name, img: Image.Image, size: int) -> None:
    """From the header alone: refuse oversized and multi-frame images (phone MPO photos keep
    their first frame); a JPEG is decoded at a reduced scale when it is far larger than needed."""
    if img.width * img.height > MAX_PIXELS:
        raise Image.DecompressionBombError(f"{img.width}x{img.height}")
    if max(img.size) > MAX_ASPECT * min(img.size):
        raise MnistError(f"{name}: {img.width}x{img.height} pixels is too thin a strip to hold "
                         f"a digit. Crop the picture around the digit.")
    if getattr(img, "n_frames", 1) > 1 and img.format != "MPO":
        raise MnistError(f"{name}: animated image ({img.n_frames} frames): save one frame "
                         f"as a still PNG or JPEG.")
    if img.format in ("JPEG", "MPO"):
        check_filled(name, img, size)
        img.draft(img.mode, (WORK_SIDE, WORK_SIDE))  # libjpeg scales by 1/2, 1/4 or 1/8
    if decoded_bytes(img) > MAX_DECODED:
        raise MnistError(f"{name}: {img.width}x{img.height} pixels in mode {img.mode} would take "
                         f"{decoded_bytes(img) / 2**20:.0f} MB to decode (the limit is "
                         f"{MAX_DECODED // 2**20} MB). Resize the picture first.")


def check_filled(name, img: Image.Image, size: int) -> None:
    """A JPEG's data (size bytes) must be able to fill the size its header claims: every 8x8
    block of a Huffman-coded scan takes at least one bit. (Other formats fail while decoding.)"""
    if size * 8 < blocks(img):
        raise MnistError(f"{name}: the file holds {size:,} bytes, too few for the "
                         f"{img.size[0]}x{img.size[1]} pixels its header claims: it is "
                         f"truncated or damaged. Re-save or re-copy it.")


def blocks(img: Image.Image) -> int:
    """8x8 blocks of a full-resolution component."""
    return -(-img.width // 8) * -(-img.height // 8)


def reduce(img: Image.Image) -> Image.Image:
    """An image over twice WORK_SIDE box-reduced by a whole factor to at most WORK_SIDE (the
    pixel work shrinks smaller ones), converting modes Pillow cannot reduce."""
    if max(img.size) <= 2 * WORK_SIDE:
        return img
    factor, info = -(-max(img.size) // WORK_SIDE), img.info
    if img.mode in ("1", "P") or img.mode.startswith("I;16"):
        alpha = img.mode == "P" and "transparency" in img.info
        img = img.convert("RGBA" if alpha else "L" if img.mode == "1" else
                          "I" if img.mode.startswith("I;16") else "RGB")
    small = img.reduce(factor)
    small.info = info  # the original's: EXIF orientation, transparency
    return small


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
