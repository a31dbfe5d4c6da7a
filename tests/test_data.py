import gzip

import numpy as np
import pytest
import torch
from conftest import idx_bytes
from torchvision import datasets

from mnist_digits.data import FILES, load_mnist, make_loader, normalise, split, use_local_copy
from mnist_digits.errors import MnistError
from mnist_digits.integrity import check_archives, check_dataset, read_idx


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


def test_loaded_split_must_have_the_published_counts(tmp_path):
    with pytest.raises(MnistError, match="expected 10,000 images"):
        check_dataset(torch.zeros(100, 28, 28), torch.zeros(100), False, tmp_path)
    with pytest.raises(MnistError, match="labels outside 0-9"):
        check_dataset(torch.zeros(10000, 28, 28), torch.full((10000,), 12), False, tmp_path)


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
        (tmp_path / f).write_bytes(f.encode())
    use_local_copy(tmp_path / "root", tmp_path)
    raw = tmp_path / "root/MNIST/raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(FILES)  # and no .part files


def test_no_network_and_no_local_copy_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(MnistError, match="Could not load MNIST.*MNIST_LOCAL"):
        load_mnist(tmp_path / "data", train=False)


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


def test_loader_batches_by_index_and_shuffles_reproducibly():
    x, y = torch.randn(10, 1, 28, 28), torch.arange(10)
    batches = [b[1].tolist() for b in make_loader(x, y, 4, shuffle=True, seed=3)]
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(sum(batches, [])) == list(range(10))
    assert batches == [b[1].tolist() for b in make_loader(x, y, 4, shuffle=True, seed=3)]
    assert [b[1].tolist() for b in make_loader(x, y, 4)][0] == [0, 1, 2, 3]
