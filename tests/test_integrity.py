"""Wrong data is caught before training: truncated, corrupted, altered or half-downloaded files."""
import gzip
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, idx_bytes, needs_mnist
from test_data import trust, unpacked
from torchvision import datasets

from mnist_digits import integrity
from mnist_digits.cli import main
from mnist_digits.data import FILES, load_mnist
from mnist_digits.errors import MnistError
from mnist_digits.integrity import MD5, SHA256, check_present, remove_unverified, sha256


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


def test_good_headers_pass_and_one_byte_less_fails(tmp_path, monkeypatch):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.arange(10) % 10))
    trust(monkeypatch, tmp_path)
    assert check_present(tmp_path) is None  # no archives, one well-formed, trusted file: fine
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(MnistError, match="t10k-labels-idx1-ubyte should hold 10 values"):
        check_present(tmp_path)


def changed(path: Path, offsets, value=None) -> None:
    """Those bytes of the file changed: set to value, or inverted."""
    data = bytearray(path.read_bytes())
    for i in offsets:
        data[i] = data[i] ^ 0xFF if value is None else value
    path.write_bytes(data)


def refused(tmp_path, train: bool) -> str:
    with pytest.raises(MnistError) as e:
        load_mnist(tmp_path, train=train)
    return str(e.value)


def test_a_changed_byte_in_an_unpacked_file_is_refused_before_torchvision_reads_it(
        tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    unpacked(tmp_path, 100, monkeypatch)
    labels = tmp_path / "MNIST/raw/t10k-labels-idx1-ubyte"
    changed(labels, [8], 3)  # label 0, one byte
    monkeypatch.setattr(datasets.MNIST, "_load_data", lambda self: pytest.fail("read unverified"))
    message = refused(tmp_path, train=True)  # any file present, not only the split's
    assert message.startswith(f"{labels} differs from the published MNIST data (its SHA-256 is "
                              f"not {integrity.SHA256[labels.name]}): it was altered or damaged. "
                              "Delete it and run again: it is unpacked afresh from its .gz archive")


def test_what_torchvision_unpacks_is_verified_after_it_reads_it(tmp_path, monkeypatch):
    """Nothing there before: the files torchvision writes (here one label altered) are checked."""
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    unpacked(tmp_path / "good", 10000, monkeypatch)  # the trusted bytes

    def download(self):
        Path(self.raw_folder).mkdir(parents=True)
        for f in (tmp_path / "good/MNIST/raw").iterdir():
            (Path(self.raw_folder) / f.name).write_bytes(f.read_bytes())
        changed(Path(self.raw_folder) / "t10k-labels-idx1-ubyte", [8 + 9999], 3)

    monkeypatch.setattr(datasets.MNIST, "download", download)
    message = refused(tmp_path / "data", train=False)
    assert message.startswith(f"{tmp_path}/data/MNIST/raw/t10k-labels-idx1-ubyte differs from "
                              "the published MNIST data")


def test_torchvisions_old_cache_is_verified_too(tmp_path, monkeypatch):
    """MNIST/processed/{training,test}.pt, read instead of raw/ when present: named if altered."""
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    unpacked(tmp_path / "good", 10000, monkeypatch)
    cache = tmp_path / "data/MNIST/processed"
    cache.mkdir(parents=True)
    images, labels = torch.zeros(10000, 28, 28, dtype=torch.uint8), torch.arange(10000) % 10
    torch.save((images, labels), cache / "test.pt")
    torch.save((images[:2], labels[:2]), cache / "training.pt")
    assert load_mnist(tmp_path / "data", train=False)[1].tolist() == labels.tolist()
    images[0, 14, 14] = 255  # one pixel
    torch.save((images, labels), cache / "test.pt")
    assert refused(tmp_path / "data", train=False).startswith(
        f"{cache}/test.pt differs from the published MNIST data")


def archives() -> Path:
    """The four original .gz files: MNIST_LOCAL, else data/MNIST/raw (as conftest finds them)."""
    local = os.environ.get("MNIST_LOCAL")
    return Path(local) if local and Path(local).is_dir() else ROOT / "data/MNIST/raw"


@needs_mnist
def test_unpacked_digests_are_those_of_the_published_archives():
    """SHA256 is not trusted: re-derived by gunzip from archives carrying the published md5."""
    for f in FILES:
        data = (archives() / f).read_bytes()
        assert hashlib.md5(data).hexdigest() == MD5[f]
        assert sha256(gzip.decompress(data)) == SHA256[f.removesuffix(".gz")]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """The four unpacked files, gunzipped once from the archives."""
    folder = tmp_path_factory.mktemp("published")
    for f in FILES:
        (folder / f.removesuffix(".gz")).write_bytes(gzip.decompress((archives() / f).read_bytes()))
    return folder


def tampered(published: Path, root: Path, name: str, offsets, value=None) -> Path:
    """root/MNIST/raw: links to the published files, but a changed copy of name."""
    raw = root / "MNIST/raw"
    raw.mkdir(parents=True)
    for f in published.iterdir():
        if f.name == name:
            (raw / name).write_bytes(f.read_bytes())
            changed(raw / name, offsets, value)
        else:
            (raw / f.name).symlink_to(f)
    return raw / name


ISSUE_19 = {  # label 0 from 7 to 3; 196 pixels of image 0 (a 14x14 patch) inverted
    "label": ("t10k-labels-idx1-ubyte", [8], 3),
    "pixels": ("t10k-images-idx3-ubyte", [16 + 28 * r + c for r in range(7, 21)
                                          for c in range(7, 21)], None),
}


@needs_mnist
@pytest.mark.parametrize("change", ISSUE_19)
def test_a_changed_byte_in_real_mnist_is_refused_by_load_and_evaluate(
        published, tmp_path, monkeypatch, capsys, change):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    name, offsets, value = ISSUE_19[change]
    assert (published / "t10k-labels-idx1-ubyte").read_bytes()[8] == 7
    path = tampered(published, tmp_path, name, offsets, value)
    assert refused(tmp_path, train=False).startswith(
        f"{path} differs from the published MNIST data")
    assert main(["evaluate", "--weights", str(ROOT / "weights/best.pth"),
                 "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path} differs from the published MNIST data")
    assert len(err.splitlines()) == 1


@needs_mnist
def test_the_fix_the_error_gives_works(tmp_path, monkeypatch):
    """Unpacked by this run and verified; altered, refused; deleted, unpacked afresh."""
    monkeypatch.setenv("MNIST_LOCAL", str(archives()))
    assert len(load_mnist(tmp_path, train=True)[1]) == 60000
    labels = tmp_path / "MNIST/raw/t10k-labels-idx1-ubyte"
    changed(labels, [8], 3)
    assert refused(tmp_path, train=False).startswith(f"{labels} differs")
    labels.unlink()
    assert load_mnist(tmp_path, train=False)[1][0] == 7


def test_md5_table_is_torchvisions():
    """integrity.MD5 is written out so that `serve` need not import torchvision; it must stay
    the table torchvision checks downloads against."""
    assert integrity.MD5 == dict(datasets.MNIST.resources)


def test_serve_and_predict_never_import_torchvision():
    """torchvision costs `serve` about 170 MB and 1.6 s; only loading MNIST needs it."""
    code = ("import sys, mnist_digits.reading.serve, mnist_digits.reading.predict; "
            "assert 'torchvision' not in sys.modules, 'torchvision imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_a_missing_unpacked_file_is_named(tmp_path):
    with pytest.raises(MnistError, match=f"^{tmp_path / 'gone'} is missing"):
        integrity.read_file(tmp_path / "gone")


def test_what_torchvision_read_is_found_in_its_old_cache_first(tmp_path):
    raw, cache = tmp_path / "raw", tmp_path / "processed"
    assert integrity.read_from(raw, "train", "images-idx3-ubyte") == raw / "train-images-idx3-ubyte"
    cache.mkdir()
    (cache / "training.pt").write_bytes(b"")
    assert integrity.read_from(raw, "t10k", "labels-idx1-ubyte") == raw / "t10k-labels-idx1-ubyte"
    (cache / "test.pt").write_bytes(b"")
    assert integrity.read_from(raw, "train", "images-idx3-ubyte") == cache / "training.pt"
    assert integrity.read_from(raw, "t10k", "labels-idx1-ubyte") == cache / "test.pt"
