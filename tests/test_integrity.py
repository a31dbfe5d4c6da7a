"""Wrong data is caught before training: truncated, corrupted or half-downloaded files."""
import gzip

import numpy as np
import pytest
from conftest import idx_bytes

from mnist_digits.data import FILES, load_mnist
from mnist_digits.errors import MnistError
from mnist_digits.integrity import check_present, remove_unverified


def test_truncated_unpacked_file_is_caught_before_torchvision_reads_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    raw = tmp_path / "MNIST/raw"
    raw.mkdir(parents=True)
    data = idx_bytes(np.zeros((100, 28, 28)))
    (raw / "t10k-images-idx3-ubyte").write_bytes(data[: len(data) // 2])  # an interrupted unpack
    with pytest.raises(MnistError, match="t10k-images-idx3-ubyte.*truncated.*Delete it"):
        load_mnist(tmp_path, train=False)


def test_wrong_file_under_the_right_name_is_caught(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    raw = tmp_path / "MNIST/raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(MnistError, match="not an IDX file"):
        load_mnist(tmp_path, train=True)


def test_local_copy_with_a_corrupted_archive_is_caught(tmp_path, monkeypatch):
    local = tmp_path / "local"
    local.mkdir()
    for f in FILES:
        (local / f).write_bytes(gzip.compress(b"corrupted"))
    monkeypatch.setenv("MNIST_LOCAL", str(local))
    with pytest.raises(MnistError, match="does not match the published MNIST file"):
        load_mnist(tmp_path / "data", train=False)


def test_half_downloaded_archives_are_removed(tmp_path):
    (tmp_path / FILES[0]).write_bytes(b"\x1f\x8b half")
    (tmp_path / "unrelated.txt").write_text("kept")
    remove_unverified(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["unrelated.txt"]


def test_good_headers_pass_and_one_byte_less_fails(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.arange(10) % 10))
    assert check_present(tmp_path) is None  # no archives, one well-formed file: fine
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(MnistError, match="t10k-labels-idx1-ubyte should hold 10 values"):
        check_present(tmp_path)
