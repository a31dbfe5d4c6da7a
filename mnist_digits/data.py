"""MNIST verified: the lesson's torchvision loader, with a local copy offline and every file
checked before and after torchvision reads it; the lesson's split and normalisation."""
import os
import shutil
from pathlib import Path

from . import lesson
from .errors import MnistError
from .integrity import MD5, check_dataset, check_present, check_read, remove_unverified
from .lesson import Config, Splits, make_splits, normalise, split  # noqa: F401  (the package's names)

FILES = list(MD5)  # the four original .gz files
LOCAL_ENV = "MNIST_LOCAL"  # a folder holding the four original .gz files; skips the download


def use_local_copy(root: str | Path, local: str | Path) -> None:
    """Copy the four original .gz files into root/MNIST/raw, where torchvision looks first."""
    local, raw = Path(local), Path(root) / "MNIST" / "raw"
    missing = [f for f in FILES if not (local / f).is_file()]
    if missing:
        raise MnistError(f"{LOCAL_ENV}={local} should hold the four MNIST files but lacks "
                         f"{', '.join(missing)}. Point it at a folder with all four .gz files, "
                         f"or unset it to download MNIST.")
    try:
        raw.mkdir(parents=True, exist_ok=True)
        for f in FILES:
            if not (raw / f).exists():
                tmp = raw / (f + ".part")
                try:
                    shutil.copyfile(local / f, tmp)
                    tmp.replace(raw / f)  # atomic: a half-copied file never has the real name
                finally:
                    tmp.unlink(missing_ok=True)  # nothing half-copied stays behind
    except OSError as e:
        raise MnistError(f"Could not copy MNIST from {LOCAL_ENV}={local} into {raw}: {e}. "
                         f"Check that the data folder is writable and the disk has room.") from None


def load_mnist(root: str | Path = Config.data_dir, train: bool = True):
    """Images (N, 28, 28) uint8 and labels (N,) int64, downloading or copying them if needed.
    Files already there are checked before torchvision reads them (headers, SHA-256), and
    what it read is checked after (counts, labels, SHA-256), so files it unpacked are too."""
    raw = Path(root) / "MNIST" / "raw"
    local = os.environ.get(LOCAL_ENV)
    if local:
        use_local_copy(root, local)
    check_present(raw)
    try:
        images, labels = lesson.load_mnist(root, train)  # torchvision: `serve` never loads it
    except BaseException as e:  # network down, disk full, bad permissions, Ctrl-C
        remove_unverified(raw)  # a half-written download must not be trusted next time
        if not isinstance(e, Exception):
            raise
        reason = " ".join(str(e).split())  # one paragraph
        raise MnistError(
            f"Could not load MNIST into {Path(root) / 'MNIST'}: {reason} Check your internet "
            f"connection and that the folder is writable, or set {LOCAL_ENV} to a folder "
            f"holding the four original .gz files ({', '.join(FILES)}).") from None
    check_dataset(images, labels, train, raw)
    check_read(images, labels, train, raw)
    return images, labels


def load_splits(cfg) -> Splits:
    """Train/validation/test tensors, verified, split and normalised as in the lesson."""
    train, test = load_mnist(cfg.data_dir, train=True), load_mnist(cfg.data_dir, train=False)
    return make_splits(train, test, cfg.val_size, cfg.subset)
