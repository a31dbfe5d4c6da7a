"""Hostile input, as an attacker would send it: image files that start programs, claim sizes
they do not hold or take gigabytes; odd paths and file names; Ctrl-C. Each ends in one clear
line, never a traceback, a hang, a program started or a file written. (The page's own abuse
cases are in test_serve_hostile.py; checkpoints in test_checkpoints.py.)"""
import io
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image, ImageDraw

from mnist_digits.cli import main
from mnist_digits.errors import MnistError, printable
from mnist_digits.reading import images
from mnist_digits.reading.photo import prepare

POSIX = pytest.mark.skipif(os.name == "nt", reason="POSIX file kinds")
EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n"
       b"newpath 4 4 moveto 24 24 lineto stroke showpage\n%%EOF\n")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def digit(size=(200, 200), mode="L") -> Image.Image:
    img = Image.new(mode, size, "white")
    w, h = size
    ImageDraw.Draw(img).line([(w * 0.3, h * 0.2), (w * 0.7, h * 0.2), (w * 0.45, h * 0.8)],
                             "black", max(2, w // 14))
    return img


def encoded(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def refused(data: bytes, *words: str) -> str:
    with pytest.raises(MnistError) as e:
        prepare(data, "upload.png")
    message = str(e.value)
    assert message.startswith("upload.png: ") and "\n" not in message
    for w in words:
        assert w in message
    return message


@pytest.fixture
def fake_gs(tmp_path, monkeypatch):
    """A stand-in Ghostscript first on PATH that leaves a mark if anything starts it."""
    mark, bin_dir = tmp_path / "gs-ran", tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("gs", "gswin64c", "gswin32c"):
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\ntouch '{mark}'\nexit 1\n")
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return mark


@pytest.mark.parametrize("body", [EPS, PDF, b"<svg xmlns='http://www.w3.org/2000/svg'/>"])
def test_documents_are_refused_by_content_and_start_no_program(body, fake_gs, tmp_path):
    refused(body, "not an image this program reads", "PNG, JPEG")
    path = tmp_path / "drawing.png"  # whatever the name says
    path.write_bytes(body)
    with pytest.raises(MnistError, match="not an image this program reads"):
        prepare(path)
    assert not fake_gs.exists()  # no Ghostscript, and no temporary file for it


def test_predict_on_a_folder_with_an_eps_starts_no_program(tmp_path, fake_gs, capsys):
    (tmp_path / "a.png").write_bytes(EPS)
    code = main(["predict", str(tmp_path), "--weights", str(ROOT / "weights/best.pth")])
    err = capsys.readouterr().err.splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("error: ")
    assert not fake_gs.exists()


def test_the_pixel_limit_is_the_real_one():
    """Over MAX_PIXELS (40 million) is refused from the header. Raising the limit makes this
    7000x7000 PNG decode (it fits the byte budget), and the test fails."""
    assert images.MAX_PIXELS == 40_000_000
    refused(encoded(Image.new("L", (7000, 7000))), "too many pixels", "40,000,000")


def test_decoded_bytes_are_checked_from_the_header(monkeypatch):
    """A 165 KB PNG of 6300x6300 RGBA pixels would take 303 MB decoded and reduced: refused,
    never decoded (Pillow's load is never called)."""
    data = encoded(Image.new("RGBA", (6300, 6300), "white"))
    assert len(data) < 200_000
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded"))
    refused(data, "would take 303 MB to decode", "the limit is 128 MB")


def test_a_thin_strip_is_refused_before_it_is_decoded():
    refused(encoded(Image.new("L", (1, 200_000))), "too thin a strip")


def test_a_jpeg_that_claims_more_pixels_than_it_holds_is_refused():
    data = bytearray(encoded(digit((64, 64)), "JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5: sof + 9] = (6000).to_bytes(2, "big") * 2  # height, width
    refused(bytes(data), "too few for the 6000x6000 pixels its header claims")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "TIFF", "WEBP", "BMP"])
def test_a_file_cut_short_is_refused(fmt):
    noise = np.random.default_rng(0).integers(0, 256, (300, 300), np.uint8)
    data = encoded(Image.fromarray(noise), fmt)
    refused(data[: len(data) // 2])


def test_large_photos_are_reduced_while_decoding():
    """A 24-megapixel phone photo is decoded by libjpeg at a quarter of its size, and a large
    PNG box-reduced at once: what the pixel work sees is at most WORK_SIDE on its longer side."""
    photo = images.load_bytes(encoded(digit((6000, 4000), "RGB"), "JPEG"))
    png = images.load_bytes(encoded(digit((5000, 2500)), "PNG"))
    assert max(photo.size) <= 2 * images.WORK_SIDE and max(png.size) <= images.WORK_SIDE
    assert prepare(encoded(digit((6000, 4000), "RGB"), "JPEG")).shape == (28, 28)


def test_the_decoding_budget_makes_large_images_wait_their_turn():
    budget = images.Budget(10)
    order = []

    def second():
        with budget.take(6):
            order.append("second")
    with budget.take(6):
        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.2)
        order.append("first done")
    t.join(5)
    assert order == ["first done", "second"]
    with budget.take(1000):  # more than there is: waits for all, never forever
        pass


# --- paths and names ------------------------------------------------------------------------

@POSIX
def test_a_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(MnistError, match="not a regular file"):
        prepare(fifo)


@POSIX
@pytest.mark.parametrize("kind, words", [("loop", "cannot be opened"),
                                         ("dangling", "a broken link")])
def test_bad_links_say_what_they_are(tmp_path, kind, words):
    link = tmp_path / "link.png"
    link.symlink_to(link if kind == "loop" else tmp_path / "gone.png")
    with pytest.raises(MnistError, match=words):
        prepare(link)


def test_an_empty_file_is_called_empty(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(MnistError, match="the file is empty"):
        prepare(tmp_path / "empty.png")


def test_printable_escapes_what_would_break_a_line():
    name = os.fsdecode(b"a\xffb\nc\x1b[31m" + "\u2028d.png".encode())
    out = printable(name)
    assert out == "a\\xffb\\nc\\x1b[31m\\u2028d.png"
    assert printable("ünïcode ✓ 7.png") == "ünïcode ✓ 7.png"
    assert printable("\udcff\ud800") == "\\udcff\\ud800"  # a lone surrogate: never raises


@POSIX
def test_predict_prints_odd_file_names_on_one_line_each(tmp_path, capsys):
    odd = os.fsdecode(b"bad\xff\nname.png")
    (tmp_path / odd).write_bytes(encoded(digit()))
    (tmp_path / "ok.png").write_bytes(encoded(digit()))
    weights = str(ROOT / "weights/best.pth")
    assert main(["predict", str(tmp_path / odd), str(tmp_path / "ok.png"),
                 "--weights", weights]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "bad\\xff\\nname.png: " in lines[0] and "ok.png: " in lines[1]
    assert main(["predict", str(tmp_path / odd), "--weights", weights, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["file"].endswith("bad\\xff\\nname.png") and record["file"].isprintable()


# --- Ctrl-C ---------------------------------------------------------------------------------

def test_ctrl_c_in_a_command_is_one_line_and_status_130(monkeypatch, capsys):
    from mnist_digits.reading import predict

    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(predict, "run", interrupted)
    assert main(["predict", "x.png"]) == 130
    assert capsys.readouterr().err == "interrupted (Ctrl-C): stopped, nothing half-written\n"


def test_ctrl_c_while_the_program_starts_is_one_line_and_status_130(tmp_path):
    """Ctrl-C while torch loads (seconds on a laptop), made certain: a stand-in torch first on
    the path raises KeyboardInterrupt as it is imported."""
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise KeyboardInterrupt\n")
    r = subprocess.run([sys.executable, "-m", "mnist_digits", "predict", "x.png"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert r.returncode == 130 and r.stderr == \
        "interrupted (Ctrl-C): stopped, nothing half-written\n"


def test_jpeg_data_bound_is_one_bit_per_block_exactly():
    from types import SimpleNamespace
    img = SimpleNamespace(width=6000, height=4000, size=(6000, 4000))
    assert images.blocks(SimpleNamespace(width=9, height=17)) == 2 * 3  # partial blocks count
    blocks = images.blocks(img)
    images.check_filled("a.jpg", img, blocks // 8)  # just enough
    with pytest.raises(MnistError, match="too few for the 6000x4000 pixels its header claims"):
        images.check_filled("a.jpg", img, blocks // 8 - 1)


@pytest.mark.parametrize("mode, info, reduced_mode", [
    ("P", {"transparency": 0}, "RGBA"), ("P", {}, "RGB"), ("1", {}, "L"), ("I;16", {}, "I"),
    ("L", {}, "L"), ("RGBA", {}, "RGBA")])
def test_large_images_are_reduced_in_a_mode_pillow_can_reduce(mode, info, reduced_mode):
    from PIL import Image
    img = Image.new(mode, (3 * images.WORK_SIDE + 1, 100))
    img.info.update(info)
    small = images.reduce(img)
    assert small.mode == reduced_mode and small.size == (769, 25)  # by 4, rounded up
    assert small.info == img.info  # EXIF orientation and transparency kept


def test_images_up_to_twice_the_work_side_are_not_reduced():
    from PIL import Image
    img = Image.new("L", (2 * images.WORK_SIDE, 10))
    assert images.reduce(img) is img
    assert images.reduce(Image.new("L", (2 * images.WORK_SIDE + 1, 10))).size == (683, 4)  # by 3


@pytest.mark.parametrize("mode, per_pixel", [("1", 1), ("L", 1), ("P", 8), ("PA", 8), ("LA", 8),
                                             ("RGBA", 8), ("RGB", 4), ("I;16", 4), ("I", 4),
                                             ("F", 4), ("CMYK", 4)])
def test_decoded_bytes_per_pixel(mode, per_pixel):
    assert images.decoded_bytes(Image.new(mode, (3, 2))) == 6 * per_pixel


def test_header_limits_are_inclusive(monkeypatch):
    """A strip exactly 100 times longer than wide, and exactly MAX_DECODED bytes, are read."""
    images.check_header("a.png", Image.new("L", (100, 1)), 100)
    with pytest.raises(MnistError, match="too thin a strip"):
        images.check_header("a.png", Image.new("L", (101, 1)), 100)
    monkeypatch.setattr(images, "MAX_DECODED", 8 * 100)
    images.check_header("a.png", Image.new("RGBA", (10, 10)), 100)
    with pytest.raises(MnistError, match="would take"):
        images.check_header("a.png", Image.new("RGBA", (10, 11)), 100)


@pytest.mark.parametrize("fmt", ["JPEG", "MPO"])
def test_jpegs_are_decoded_at_the_scale_the_work_needs(fmt, tmp_path):
    path = tmp_path / "big.jpg"
    digit((4096, 4096), "RGB").save(path, fmt)
    with Image.open(path) as img:
        images.check_header("big.jpg", img, path.stat().st_size)
        assert img.size == (images.WORK_SIDE, images.WORK_SIDE) and img.mode == "RGB"
