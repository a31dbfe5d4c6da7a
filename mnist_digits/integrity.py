"""Never train on wrong data silently: checksums, IDX headers, counts and shapes."""
import hashlib
import math
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets

from .errors import MnistError

MD5 = dict(datasets.MNIST.resources)  # the published md5 sums torchvision checks
EXPECTED = {"train": 60000, "t10k": 10000}
KINDS = ("images-idx3-ubyte", "labels-idx1-ubyte")
DTYPES = {0x08: np.uint8}  # MNIST uses only unsigned bytes
FIX = ("Delete it and run again to download a fresh copy, or copy the original file "
       "(for example from the folder named by MNIST_LOCAL).")


def read_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse an IDX file (big-endian header: 0, 0, dtype, ndim, then ndim sizes) strictly."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise MnistError(f"{name} is not an IDX file (bad magic number). {FIX}")
    dtype, ndim = DTYPES.get(data[2]), data[3]
    if dtype is None or not 1 <= ndim <= 3:
        raise MnistError(f"{name} has an unsupported IDX type 0x{data[2]:02x} or {ndim} "
                         f"dimensions; MNIST files hold unsigned bytes in 1 to 3 dimensions. {FIX}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MnistError(f"{name} is truncated inside its header. {FIX}")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    size = math.prod(shape)  # Python ints: no overflow on absurd headers
    if len(data) - header != size:
        raise MnistError(f"{name} should hold {size:,} values for shape {shape} but holds "
                         f"{len(data) - header:,}: it is truncated or corrupted. {FIX}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def read_file(path: Path) -> np.ndarray:
    if not path.is_file():
        raise MnistError(f"{path} is missing. {FIX}")
    return read_idx(path.read_bytes(), str(path))


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def unverified(raw: Path) -> list[Path]:
    """The .gz files present whose md5 sum is not the published one."""
    return [raw / n for n, expected in MD5.items()
            if (raw / n).exists() and md5(raw / n) != expected]


def check_archives(raw: Path) -> None:
    """Each .gz present must carry its published md5 sum."""
    for path in unverified(raw):
        raise MnistError(f"{path} does not match the published MNIST file (its md5 sum is "
                         f"not {MD5[path.name]}). {FIX}")


def check_present(raw: Path) -> None:
    """Before torchvision trusts them: archives by checksum, unpacked files by their header."""
    check_archives(raw)
    for path in (raw / f"{prefix}-{kind}" for prefix in EXPECTED for kind in KINDS):
        if path.exists():
            read_file(path)


def remove_unverified(raw: Path) -> None:
    """Delete archives that fail their checksum (a broken-off download), so none is reused."""
    for path in unverified(raw):
        path.unlink()


def check_dataset(images: torch.Tensor, labels: torch.Tensor, train: bool, raw: Path) -> None:
    """After torchvision has parsed a split: the published counts, 28x28, labels 0-9."""
    prefix = "train" if train else "t10k"
    n = EXPECTED[prefix]
    if tuple(images.shape) != (n, 28, 28) or tuple(labels.shape) != (n,):
        raise MnistError(f"{raw}/{prefix}-*: expected {n:,} images of 28x28 and {n:,} labels, "
                         f"found {tuple(images.shape)} and {tuple(labels.shape)}. {FIX}")
    if int(labels.min()) < 0 or int(labels.max()) > 9:
        raise MnistError(f"{raw}/{prefix}-labels holds labels outside 0-9. {FIX}")
