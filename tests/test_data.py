import gzip
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import idx_bytes
from pytest_socket import SocketBlockedError
from torchvision import datasets

from mnist_digits import data as data_module
from mnist_digits import integrity
from mnist_digits.data import FILES, load_mnist, normalise, split, use_local_copy
from mnist_digits.errors import MnistError
from mnist_digits.integrity import check_archives, read_idx
from mnist_digits.lesson import batches
from mnist_digits.recipes import Config


def test_read_idx_parses_images_and_labels():
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    np.testing.assert_array_equal(read_idx(idx_bytes(images)), images)
    np.testing.assert_array_equal(read_idx(idx_bytes(np.array([3, 1, 4]))), [3, 1, 4])


@pytest.mark.parametrize("data, message", [
    (b"", "bad magic"), (b"\x08\x03\x00\x00", "bad magic"), (b"\x00\x00\x0d\x01", "unsupported"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated inside its header"),
])
def test_read_idx_rejects_bad_headers(data, message):
    with pytest.raises(MnistError, match=message):
        read_idx(data, "f")


def test_read_idx_rejects_truncated_and_padded_data():
    good = idx_bytes(np.zeros((3, 28, 28)))
    for bad in (good[:-1], good + b"\x00"):
        with pytest.raises(MnistError, match="truncated or corrupted"):
            read_idx(bad, "f")


def trust(monkeypatch, raw):
    """Take the unpacked files in raw for the published ones: synthetic data has its own SHA-256."""
    monkeypatch.setattr(integrity, "SHA256", {p.name: integrity.sha256(p.read_bytes())
                                              for p in raw.iterdir()})


def unpacked(root, n: int, monkeypatch, labels=None):
    """Well-formed unpacked test files of n images in root/MNIST/raw, as torchvision reads them
    (with tiny training files beside them: torchvision looks for all four), trusted."""
    raw = root / "MNIST/raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 28, 28))))
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(2)))
    (raw / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((n, 28, 28))))
    (raw / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(n) % 10 if labels is None
                                                           else labels))
    trust(monkeypatch, raw)


def test_load_mnist_refuses_well_formed_files_with_the_wrong_count(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    unpacked(tmp_path, 100, monkeypatch)
    with pytest.raises(MnistError, match="expected 10,000 images of 28x28.*found \\(100, 28"):
        load_mnist(tmp_path, train=False)


def test_load_mnist_refuses_labels_outside_0_to_9(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    unpacked(tmp_path, 10000, monkeypatch, np.full(10000, 12))
    with pytest.raises(MnistError, match="labels outside 0-9"):
        load_mnist(tmp_path, train=False)


def test_load_mnist_reads_well_formed_files_with_the_published_counts(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    unpacked(tmp_path, 10000, monkeypatch)
    images, labels = load_mnist(tmp_path, train=False)
    assert images.shape == (10000, 28, 28) and labels[:12].tolist() == [*range(10), 0, 1]


def test_wrong_file_under_the_right_name_fails_its_checksum(tmp_path):
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"something else"))
    with pytest.raises(MnistError, match="does not match the published MNIST file"):
        check_archives(tmp_path)


def test_local_copy_missing_files_is_a_clear_error(tmp_path):
    (tmp_path / FILES[0]).write_bytes(b"x")
    with pytest.raises(MnistError, match="MNIST_LOCAL=.*lacks train-labels"):
        use_local_copy(tmp_path / "root", tmp_path)


def test_local_copy_is_copied_whole(tmp_path):
    for f in FILES:
        (tmp_path / f).write_bytes(f.encode() * 1000)
    use_local_copy(tmp_path / "root", tmp_path)
    raw = tmp_path / "root/MNIST/raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(FILES)  # and no .part files
    for f in FILES:
        assert (raw / f).read_bytes() == (tmp_path / f).read_bytes()


def test_an_interrupted_local_copy_leaves_no_file_behind(tmp_path, monkeypatch):
    """The copy dies half-way (disk full): no file under its real name, no .part left, and the
    next run copies again."""
    for f in FILES:
        (tmp_path / f).write_bytes(f.encode() * 1000)
    real = shutil.copyfile

    def half_then_fail(src, dst):
        Path(dst).write_bytes(Path(src).read_bytes()[:500])
        if Path(src).name == FILES[2]:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(shutil, "copyfile", half_then_fail)
    with pytest.raises(MnistError, match="Could not copy MNIST.*No space left"):
        use_local_copy(tmp_path / "root", tmp_path)
    raw = tmp_path / "root/MNIST/raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(FILES[:2])  # whole, and no .part
    monkeypatch.setattr(shutil, "copyfile", real)
    use_local_copy(tmp_path / "root", tmp_path)
    assert all((raw / f).read_bytes() == (tmp_path / f).read_bytes() for f in FILES)


def test_no_network_and_no_local_copy_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)  # and pytest-socket blocks the network
    with pytest.raises(MnistError, match="Could not load MNIST.*MNIST_LOCAL"):
        load_mnist(tmp_path / "data", train=False)


def test_the_tests_cannot_reach_the_network():
    """pytest-socket, for the whole suite: a test that tried to download would fail, not pass
    on a machine that happens to be online."""
    with pytest.raises(SocketBlockedError):
        socket.create_connection(("127.0.0.1", 9), timeout=1)


def test_a_download_that_breaks_off_leaves_no_archive_behind(tmp_path, monkeypatch):
    """The connection drops mid-file: the partial .gz is deleted, so no later run trusts it."""
    monkeypatch.delenv("MNIST_LOCAL", raising=False)

    def partial_download(self):
        raw = Path(self.raw_folder)
        raw.mkdir(parents=True, exist_ok=True)
        (raw / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08 partial")
        raise ConnectionResetError("Connection reset by peer")

    monkeypatch.setattr(datasets.MNIST, "download", partial_download)
    with pytest.raises(MnistError, match="Could not load MNIST.*Connection reset"):
        load_mnist(tmp_path, train=False)
    assert list((tmp_path / "MNIST/raw").iterdir()) == []


def test_unwritable_data_folder_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(MnistError, match="Could not load MNIST"):
        load_mnist(blocker, train=False)


def test_split_is_seeded_disjoint_and_sized():
    images, labels = torch.arange(1000).view(-1, 1, 1).expand(-1, 28, 28), torch.arange(1000)
    tr_x, tr_y, va_x, va_y = split(images, labels, val_size=100)
    assert len(tr_y) == 900 and len(va_y) == 100
    assert not set(tr_y.tolist()) & set(va_y.tolist())
    assert torch.equal(split(images, labels, 100)[3], va_y)  # same split every time
    assert len(split(images, labels, 100, subset=80)[1]) == 80


def test_no_validation_split_trains_on_every_image():
    images, labels = torch.arange(1000).view(-1, 1, 1).expand(-1, 28, 28), torch.arange(1000)
    tr_x, tr_y, va_x, va_y = split(images, labels, val_size=0)
    assert sorted(tr_y.tolist()) == list(range(1000)) and va_x.shape == (0, 28, 28)


def test_normalise_gives_zero_mean_unit_std():
    images = torch.randint(0, 256, (50, 28, 28), dtype=torch.uint8)
    pixels = images.float() / 255
    x = normalise(images, pixels.mean().item(), pixels.std().item())
    assert x.shape == (50, 1, 28, 28)
    assert abs(x.mean().item()) < 1e-4 and abs(x.std().item() - 1) < 1e-4


def shuffled(x, y, size, seed):
    return [b[1].tolist() for b in batches(x, y, size, torch.Generator().manual_seed(seed))]


def test_batches_are_cut_by_index_and_shuffle_reproducibly():
    x, y = torch.randn(10, 1, 28, 28), torch.arange(10)
    cut = shuffled(x, y, 4, seed=3)
    assert [len(b) for b in cut] == [4, 4, 2]
    assert sorted(sum(cut, [])) == list(range(10))
    assert cut == shuffled(x, y, 4, seed=3) != shuffled(x, y, 4, seed=4)
    assert [b[1].tolist() for b in batches(x, y, 4)][0] == [0, 1, 2, 3]
    first = next(batches(x, y, 4, torch.Generator().manual_seed(3)))
    assert torch.equal(first[0], x[first[1]])  # images travel with their labels


def test_load_splits_normalises_every_split_with_the_training_statistics(monkeypatch):
    """The path train takes: split, then mean and std of the training split only."""
    g = torch.Generator().manual_seed(0)
    fake = {True: (torch.randint(0, 256, (100, 28, 28), generator=g, dtype=torch.uint8),
                   torch.arange(100) % 10),
            False: (torch.full((20, 28, 28), 255, dtype=torch.uint8), torch.arange(20) % 10)}
    def fake_load(root, train):
        assert root == "x"
        return fake[train]

    monkeypatch.setattr(data_module, "load_mnist", fake_load)
    assert len(data_module.load_splits(Config(val_size=30, subset=20, data_dir="x")).train_x) == 20
    s = data_module.load_splits(Config(val_size=30, subset=0, data_dir="x"))
    assert (len(s.train_x), len(s.val_x), len(s.test_x)) == (70, 30, 20)
    tr, _, _, va_y = split(*fake[True], 30)
    pixels = tr.float() / 255
    assert s.mean == pytest.approx(pixels.mean().item())
    assert s.std == pytest.approx(pixels.std().item())
    assert torch.allclose(s.train_x, normalise(tr, s.mean, s.std))
    assert torch.allclose(s.test_x, torch.full_like(s.test_x, (1 - s.mean) / s.std))
    assert torch.equal(s.val_y, va_y) and torch.equal(s.test_y, fake[False][1])
    assert torch.equal(s.train_y, split(*fake[True], 30)[1])
    moved = s.to("cpu")
    assert moved is not s and moved.mean == s.mean and torch.equal(moved.val_x, s.val_x)


@pytest.mark.parametrize("head", [b"\x00\x01\x08\x01", b"\x01\x00\x08\x01"])
def test_read_idx_needs_both_magic_zeros(head):
    with pytest.raises(MnistError, match="bad magic"):
        read_idx(head + (3).to_bytes(4, "big") + b"abc", "f")


def test_read_idx_reads_sizes_as_big_endian_32_bit_and_says_what_it_found():
    dims = (0x01020304, 0x05060708, 0x090A0B0C)
    data = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in dims) + b"xyz"
    with pytest.raises(MnistError) as e:
        read_idx(data, "f")
    assert f"shape {dims} but holds 3:" in str(e.value)
    assert read_idx(idx_bytes(np.zeros(300))).shape == (300,)  # more than one byte
    with pytest.raises(MnistError, match="unsupported IDX type 0x0d or 1 dimensions"):
        read_idx(b"\x00\x00\x0d\x01", "f")


def test_load_mnist_reads_the_training_split_with_its_own_count(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    unpacked(tmp_path, 10000, monkeypatch)
    raw = tmp_path / "MNIST/raw"
    (raw / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((60000, 28, 28))))
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(59999) % 10))
    trust(monkeypatch, raw)
    with pytest.raises(MnistError) as e:
        load_mnist(tmp_path, train=True)
    assert str(e.value).startswith(f"{raw}/train-*: expected 60,000 images of 28x28 and 60,000 "
                                   "labels, found (60000, 28, 28) and (59999,). Delete it")
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(60000, 10)))
    trust(monkeypatch, raw)
    with pytest.raises(MnistError, match="train-labels holds labels outside 0-9"):
        load_mnist(tmp_path, train=True)
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(60000) % 10))
    trust(monkeypatch, raw)
    images, labels = load_mnist(tmp_path, train=True)
    assert images.shape == (60000, 28, 28) and int(labels[-1]) == 59999 % 10


def test_the_download_error_names_the_folder_and_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    with pytest.raises(MnistError) as e:
        load_mnist(tmp_path / "data", train=False)
    assert f"Could not load MNIST into {tmp_path / 'data' / 'MNIST'}: " in str(e.value)
    assert f"files ({', '.join(FILES)})." in str(e.value)


def test_split_keeps_a_quarter_of_a_subset_for_validation():
    images, labels = torch.zeros(100, 28, 28), torch.arange(100)
    assert [len(t) for t in split(images, labels, 40, subset=8)] == [8, 8, 2, 2]
    assert [len(t) for t in split(images, labels, 40, subset=2)] == [2, 2, 1, 1]


def test_splits_move_tensors_and_keep_the_statistics():
    from conftest import synthetic_splits
    s = synthetic_splits(8)
    moved = s.to("meta")
    assert moved.train_x.device.type == "meta" and moved.test_y.device.type == "meta"
    assert (moved.mean, moved.std) == (s.mean, s.std) and s.train_x.device.type == "cpu"


def test_batches_shuffle_only_when_given_a_generator():
    x, y = torch.arange(64.0).view(-1, 1), torch.arange(64)
    assert torch.equal(torch.cat([b for _, b in batches(x, y, 8)]), y)
    shuffled = torch.cat([b for _, b in batches(x, y, 8, torch.Generator().manual_seed(0))])
    assert not torch.equal(shuffled, y) and torch.equal(shuffled.sort().values, y)


def test_missing_local_files_are_listed_with_commas(tmp_path):
    (tmp_path / FILES[0]).write_bytes(b"x")
    with pytest.raises(MnistError, match=", ".join(FILES[1:]) + r"\. Point it"):
        use_local_copy(tmp_path / "root", tmp_path)


def test_a_local_copy_is_written_to_a_part_file_first(tmp_path, monkeypatch):
    for f in FILES:
        (tmp_path / f).write_bytes(b"x")
    targets = []
    monkeypatch.setattr(shutil, "copyfile", lambda src, dst: targets.append(dst) or
                        open(dst, "wb").close())
    use_local_copy(tmp_path / "root", tmp_path)
    assert [t.name for t in targets] == [f + ".part" for f in FILES]
