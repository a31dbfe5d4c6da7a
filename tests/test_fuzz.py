"""Property-based tests that reach their targets: IDX files built from a header strategy, real
image files through `prepare`, and command lines the parser accepts, with broken files."""
import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mnist_digits.cli import main
from mnist_digits.errors import MnistError
from mnist_digits.integrity import read_idx
from mnist_digits.reading.photo import prepare

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@st.composite
def idx_files(draw):
    """An IDX file whose header is well-formed or nearly: magic 0 0, any type byte (mostly
    0x08), 0-4 dimensions of 0-6, a payload within 2 bytes of the product (mostly exact)."""
    dtype = draw(st.one_of(st.just(0x08), st.integers(0, 255)))
    shape = draw(st.lists(st.integers(0, 6), min_size=0, max_size=4))
    size = math.prod(shape)
    length = max(0, size + draw(st.one_of(st.just(0), st.integers(-2, 2))))
    header = bytes([0, 0, dtype, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)
    cut = draw(st.one_of(st.none(), st.integers(4, len(header))))  # sometimes a cut header
    data = header + bytes(draw(st.binary(min_size=length, max_size=length)))
    return data[:cut] if cut is not None and cut < len(header) else data


@FAST
@given(idx_files())
def test_read_idx_accepts_exactly_the_well_formed_files(data):
    """All 150 cases pass the magic number and reach the type, shape and length checks; about
    1 in 15 is well-formed (measured over 600). The reader agrees with an independent oracle."""
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)) \
        if len(data) >= header else None
    good = (data[2] == 0x08 and 1 <= ndim <= 3 and shape is not None
            and len(data) - header == math.prod(shape))
    if not good:
        with pytest.raises(MnistError, match="IDX|truncated|holds"):
            read_idx(data, "f")
        return
    out = read_idx(data, "f")
    assert out.shape == shape and out.tobytes() == data[header:]


FORMATS = {"PNG": ".png", "JPEG": ".jpg", "BMP": ".bmp", "GIF": ".gif", "WEBP": ".webp",
           "TIFF": ".tif"}


@st.composite
def image_files(draw):
    """Bytes of a real image file: noise, a flat picture or a stroke, any size from 1 px, any
    of six formats and five modes; sometimes cut short or with a few bytes changed."""
    h, w = draw(st.integers(1, 90)), draw(st.integers(1, 90))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["noise", "flat", "stroke"]))
    pixels = {"noise": lambda: rng.integers(0, 256, (h, w), dtype=np.uint8),
              "flat": lambda: np.full((h, w), rng.integers(0, 256), np.uint8),
              "stroke": lambda: stroke(h, w, rng)}[kind]()
    mode = draw(st.sampled_from(["L", "RGB", "RGBA", "P", "1"]))
    fmt = draw(st.sampled_from(list(FORMATS)))
    if fmt == "JPEG" and mode in ("RGBA", "P"):
        mode = "RGB"
    buf = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buf, fmt)
    data = bytearray(buf.getvalue())
    damage = draw(st.sampled_from(["none", "none", "cut", "flip"]))
    if damage == "cut":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == "flip":
        for i in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=4)):
            data[i] ^= 0xFF
    return FORMATS[fmt], bytes(data), kind, damage


def stroke(h, w, rng) -> np.ndarray:
    a = np.full((h, w), 230, np.uint8)
    a[h // 4: 3 * h // 4 + 1, w // 3: 2 * w // 3 + 1] = rng.integers(0, 60)
    return a


@FAST
@given(image_files())
def test_prepare_on_real_image_files(tmp_path_factory, case):
    """All 150 cases are files on disk read through `prepare`, the path `predict` takes; about
    half are whole, a quarter cut short, a quarter with changed bytes. Each gives a 28x28
    MNIST-like digit or one MnistError line naming the file; a whole stroke picture of 8 px or
    more is always read."""
    suffix, data, kind, damage = case
    path = tmp_path_factory.mktemp("img") / f"input{suffix}"
    path.write_bytes(data)
    try:
        out = prepare(path)
    except MnistError as e:
        assert str(e).startswith(f"{path}: ") and "\n" not in str(e)
        img_ok = damage == "none" and kind == "stroke"
        lossless = suffix not in (".jpg", ".webp")
        assert not (img_ok and lossless and min(Image.open(path).size) >= 8), str(e)
        return
    assert out.shape == (28, 28) and out.dtype == np.float32 and out.max() == pytest.approx(1)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Existing files for the command line: an image, a text file, a folder, broken weights."""
    d = tmp_path_factory.mktemp("cli")
    Image.new("L", (40, 40), 255).save(d / "digit.png")
    (d / "notes.txt").write_text("not an image")
    (d / "folder").mkdir()
    (d / "text.pth").write_text("not a checkpoint")
    (d / "empty.pth").write_bytes(b"")
    (d / "zip.pth").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip archive
    (d / "existing.pth").write_bytes(b"")
    return d


BAD_WEIGHTS = ["text.pth", "empty.pth", "zip.pth", "folder", "missing.pth", "digit.png"]


@st.composite
def command_lines(draw, d):
    """A command line the parser accepts, with valid subcommands and values, that must end in
    a clear error: every checkpoint given is broken, and train's --out already exists."""
    pick = lambda xs: draw(st.sampled_from(xs))  # noqa: E731
    flags = lambda *fs: [f for f in fs if draw(st.booleans())]  # noqa: E731
    weights = ["--weights", str(d / pick(BAD_WEIGHTS))]
    sub = pick(["predict", "evaluate", "serve", "train"])
    if sub == "predict":
        inputs = draw(st.lists(st.sampled_from(["digit.png", "notes.txt", "folder", "x.png"]),
                               min_size=1, max_size=3))
        extra = flags("--json") + ["--threshold", str(draw(st.floats(0, 1)))]
        return [sub, *(str(d / i) for i in inputs), *weights, *extra]
    if sub == "evaluate":
        return [sub, *weights, *flags("--json"), "--data", str(d / "folder"), "--device", "cpu"]
    if sub == "serve":
        return [sub, *weights, "--port", str(draw(st.integers(0, 65535)))]
    return [sub, "--model", pick(["linear", "mlp", "cnn", "best"]), "--out",
            str(d / "existing.pth"), "--seed", str(draw(st.integers(0, 2**63 - 1))),
            *flags("--fast", "--json", "--all-data")]


@FAST
@given(st.data())
def test_cli_fuzzed_command_lines_end_in_one_clear_error(files, capsys, data):
    """All 150 command lines pass the parser and reach the subcommand's own code (predict,
    evaluate, serve or train), which fails on the broken file: exit status 2, exactly one
    line on stderr, starting 'error: ', and no traceback."""
    argv = data.draw(command_lines(files))
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (argv, err)

