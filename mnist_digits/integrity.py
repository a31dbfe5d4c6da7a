"""Never train on wrong data silently: checksums, IDX headers, counts and shapes."""
import hashlib
import math
from pathlib import Path

import numpy as np
import torch

from .errors import MnistError

MD5 = {  # the published md5 sums, the ones torchvision checks (a test compares them)
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
EXPECTED = {"train": 60000, "t10k": 10000}
KINDS = ("images-idx3-ubyte", "labels-idx1-ubyte")
DTYPES = {0x08: np.uint8}  # MNIST uses only unsigned bytes
FIX = ("Delete it and run again to download a fresh copy, or copy the original file "
       "(for example from the folder named by MNIST_LOCAL).")
# SHA-256 of the unpacked files, the bytes torchvision actually reads. Derived from the published
# archives (md5 sums as in MD5): `gzip -dc NAME.gz | sha256sum`; re-derived, not trusted, by
# tests/test_integrity.py::test_unpacked_digests_are_those_of_the_published_archives.
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
REFRESH = ("Delete it and run again: it is unpacked afresh from its .gz archive, which is checked "
           "against its published md5 sum (downloaded, or copied from MNIST_LOCAL, if missing).")


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


def read_file(path: Path) -> bytes:
    """An unpacked file's bytes, once its IDX header and size are right."""
    if not path.is_file():
        raise MnistError(f"{path} is missing. {FIX}")
    data = path.read_bytes()
    read_idx(data, str(path))
    return data


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def sha256(*chunks) -> str:
    """Of bytes or contiguous arrays, back to back (no copy)."""
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


def check_digest(name: str, digest: str, path: Path) -> None:
    """The published bytes, or one error: a single changed label or pixel is refused."""
    if digest != SHA256[name]:
        raise MnistError(f"{path} differs from the published MNIST data (its SHA-256 is not "
                         f"{SHA256[name]}): it was altered or damaged. {REFRESH}")


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
    """Before torchvision trusts them: archives by md5, unpacked files by header and SHA-256."""
    check_archives(raw)
    for path in (raw / name for name in SHA256):
        if path.exists():
            check_digest(path.name, sha256(read_file(path)), path)


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


def read_from(raw: Path, prefix: str, kind: str) -> Path:
    """The file torchvision read: its old cache (MNIST/processed), when whole, comes first."""
    cache = raw.parent / "processed"
    if all((cache / f).is_file() for f in ("training.pt", "test.pt")):
        return cache / ("training.pt" if prefix == "train" else "test.pt")
    return raw / f"{prefix}-{kind}"


def check_read(images: torch.Tensor, labels: torch.Tensor, train: bool, raw: Path) -> None:
    """After check_dataset: what torchvision read, unpacked by this run or not, is byte for byte
    the published file (IDX header rebuilt from the shape, then the values as bytes)."""
    prefix = "train" if train else "t10k"
    for kind, values in zip(KINDS, (images, labels), strict=True):
        array = np.ascontiguousarray(values.numpy().astype(np.uint8, copy=False))
        header = bytes([0, 0, 0x08, array.ndim]) + b"".join(n.to_bytes(4, "big")
                                                            for n in array.shape)
        check_digest(f"{prefix}-{kind}", sha256(header, array), read_from(raw, prefix, kind))
