"""Property-based tests: random and mutated input either works or raises MnistError."""
import numpy as np
from conftest import idx_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mnist_digits.cli import main
from mnist_digits.errors import MnistError
from mnist_digits.integrity import read_idx
from mnist_digits.preprocess import to_mnist

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALID = idx_bytes(np.arange(3 * 4 * 5).reshape(3, 4, 5) % 256)


@FAST
@given(st.binary(max_size=200))
def test_read_idx_on_random_bytes(data):
    try:
        out = read_idx(data)
    except MnistError:
        return
    assert out.size == len(data) - 4 - 4 * out.ndim


@FAST
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=6),
       st.integers(0, len(VALID)))
def test_read_idx_on_mutated_files(edits, cut):
    data = bytearray(VALID)
    for i, value in edits:
        data[i] = value
    try:
        out = read_idx(bytes(data[:cut]))
    except MnistError:
        return
    assert out.dtype == np.uint8 and 1 <= out.ndim <= 3


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 120), st.integers(1, 120), st.sampled_from(["L", "RGB", "RGBA", "P"]),
       st.integers(0, 2**32 - 1), st.sampled_from(["noise", "flat", "blob"]))
def test_preprocess_on_random_images(h, w, mode, seed, kind):
    rng = np.random.default_rng(seed)
    if kind == "noise":
        pixels = rng.integers(0, 256, (h, w), dtype=np.uint8)
    elif kind == "flat":
        pixels = np.full((h, w), rng.integers(0, 256), np.uint8)
    else:
        pixels = np.full((h, w), 230, np.uint8)
        pixels[h // 4: 3 * h // 4 + 1, w // 3: 2 * w // 3 + 1] = 20
    img = Image.fromarray(pixels).convert(mode)
    try:
        out = to_mnist(img)
    except MnistError:
        return
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1


WORDS = ["train", "evaluate", "predict", "bench", "--model", "mlp", "best", "--epochs", "0", "-1",
         "x", "--seed", "--weights", "--json", "--device", "tpu", "--threshold", "2", "nan",
         "--fast", "--out", "--data", "", "--help-me", "/nonexistent/file.png"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=5))
def test_cli_on_random_arguments(argv):
    argv = [a for a in argv if a not in ("train", "bench")] or ["--bogus"]  # no real training
    if "--weights" not in argv:
        argv += ["--weights", "/nonexistent/weights.pth"]  # nor a real evaluation
    try:
        code = main(argv)
    except SystemExit as e:  # argparse: usage errors (2) or --help (0)
        assert e.code in (0, 2)
        return
    assert code in (0, 1, 2)

