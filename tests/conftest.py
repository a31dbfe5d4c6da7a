"""Shared fixtures: tiny synthetic splits, so unit tests run in seconds without MNIST."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_digits.data import Splits

ROOT = Path(__file__).resolve().parent.parent
if os.environ.get("MNIST_LOCAL"):  # relative to where pytest was started, for every subprocess
    os.environ["MNIST_LOCAL"] = str(Path(os.environ["MNIST_LOCAL"]).expanduser().resolve())


def synthetic_splits(n: int = 256, seed: int = 0) -> Splits:
    """Ten learnable 'digits': a bright square whose position encodes the label, plus noise."""
    g = torch.Generator().manual_seed(seed)

    def make(count):
        y = torch.randint(0, 10, (count,), generator=g)
        x = torch.randn(count, 1, 28, 28, generator=g) * 0.3
        for i, label in enumerate(y.tolist()):
            r, c = 2 + 8 * (label // 4), 2 + 8 * (label % 4)
            x[i, 0, r: r + 6, c: c + 6] += 2.0
        return x, y

    (tx, ty), (vx, vy), (sx, sy) = make(n), make(n // 4), make(n // 4)
    return Splits(tx, ty, vx, vy, sx, sy, mean=0.13, std=0.31)


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes, as MNIST's files are."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def tiny() -> Splits:
    return synthetic_splits()


def mnist_available() -> bool:
    local = os.environ.get("MNIST_LOCAL")
    return bool(local and Path(local).is_dir()) or (ROOT / "data/MNIST/raw").is_dir()


needs_mnist = pytest.mark.needs_mnist  # end to end on the real data


def pytest_runtest_setup(item):
    """Without MNIST, end-to-end tests are skipped on a user's machine, with the reason, and
    fail in CI (CI=true), so a missing local copy cannot turn CI green."""
    if item.get_closest_marker("needs_mnist") and not mnist_available():
        why = "MNIST not available: download it (make notebook) or set MNIST_LOCAL"
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI must run the end-to-end tests", pytrace=False)
        pytest.skip(why)
