"""MNIST as tensors: download (or a local copy), a seeded validation split, normalisation."""
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    TensorDataset,
)

from .errors import MnistError
from .integrity import MD5, check_dataset, check_present, check_read, remove_unverified

FILES = list(MD5)  # the four original .gz files
LOCAL_ENV = "MNIST_LOCAL"  # a folder holding the four original .gz files; skips the download
SPLIT_SEED = 1234  # the validation split is the same for every training seed


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


def load_mnist(root: str | Path = "data", train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 28, 28) uint8 and labels (N,) int64, downloading or copying them if needed.
    Files already there are checked before torchvision reads them (headers, SHA-256), and
    what it read is checked after (counts, labels, SHA-256), so files it unpacked are too."""
    raw = Path(root) / "MNIST" / "raw"
    local = os.environ.get(LOCAL_ENV)
    if local:
        use_local_copy(root, local)
    check_present(raw)
    try:
        from torchvision import datasets  # here, not above: `serve` never loads it (170 MB)
        ds = datasets.MNIST(root, train=train, download=True)
    except BaseException as e:  # network down, disk full, bad permissions, Ctrl-C
        remove_unverified(raw)  # a half-written download must not be trusted next time
        if not isinstance(e, Exception):
            raise
        reason = " ".join(str(e).split())  # one paragraph
        raise MnistError(
            f"Could not load MNIST into {Path(root) / 'MNIST'}: {reason} Check your internet "
            f"connection and that the folder is writable, or set {LOCAL_ENV} to a folder "
            f"holding the four original .gz files ({', '.join(FILES)}).") from None
    check_dataset(ds.data, ds.targets, train, raw)
    check_read(ds.data, ds.targets, train, raw)
    return ds.data, ds.targets


@dataclass
class Splits:
    """Normalised images (N, 1, 28, 28) float32 and labels for train, validation and test."""
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    mean: float
    std: float

    def to(self, device) -> "Splits":
        moved = {k: v.to(device) if torch.is_tensor(v) else v for k, v in vars(self).items()}
        return Splits(**moved)


def normalise(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28), zero mean and unit variance."""
    return ((images.float() / 255 - mean) / std).unsqueeze(1)


def split(images, labels, val_size: int, subset: int = 0):
    """A seeded train/validation split; subset > 0 keeps only that many training images."""
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(SPLIT_SEED))
    val, train = perm[:val_size], perm[val_size:]
    if subset:
        train, val = train[:subset], val[: max(subset // 4, 1)]
    return images[train], labels[train], images[val], labels[val]


def load_splits(cfg) -> Splits:
    """Train/validation/test tensors, normalised with the training split's own statistics."""
    tr_x, tr_y, va_x, va_y = split(*load_mnist(cfg.data_dir, train=True), cfg.val_size, cfg.subset)
    te_x, te_y = load_mnist(cfg.data_dir, train=False)
    pixels = tr_x.float() / 255
    mean, std = pixels.mean().item(), pixels.std().item()
    return Splits(normalise(tr_x, mean, std), tr_y, normalise(va_x, mean, std), va_y,
                  normalise(te_x, mean, std), te_y, mean, std)


def make_loader(x, y, batch_size: int, shuffle: bool = False, seed: int = 0) -> DataLoader:
    """Batches by indexing whole tensors (no per-image Python work); seeded shuffling."""
    ds = TensorDataset(x, y)
    order = (RandomSampler(ds, generator=torch.Generator().manual_seed(seed)) if shuffle
             else SequentialSampler(ds))
    return DataLoader(ds, sampler=BatchSampler(order, batch_size, drop_last=False),
                      batch_size=None, num_workers=0)
