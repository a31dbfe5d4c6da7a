"""Real images into MNIST-like 28x28 digits: each step, each kind of input, each error."""
import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from mnist_digits.errors import MnistError
from mnist_digits.reading import images, ink
from mnist_digits.reading import photo as pp


def ring(size=(200, 200), box=(60, 40, 140, 160), mode="L", paper=255, ink=0, width=14):
    """A '0': an ellipse outline."""
    img = Image.new(mode, size, paper)
    ImageDraw.Draw(img).ellipse(box, outline=ink, width=width)
    return img


def one(size=(200, 200), x=100, top=30, bottom=170, mode="L", paper=255, ink=0, width=20):
    """A '1': one thick vertical stroke."""
    img = Image.new(mode, size, paper)
    ImageDraw.Draw(img).line([(x, top), (x, bottom)], fill=ink, width=width)
    return img


def ink_box(a: np.ndarray, level: float = 0.0) -> tuple[int, int]:
    rows, cols = np.flatnonzero((a > level).any(1)), np.flatnonzero((a > level).any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def assert_mnist_like(a: np.ndarray) -> None:
    assert a.shape == (28, 28) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() == pytest.approx(1)
    assert max(ink_box(a)) in (19, 20, 21)  # longer side of the ink box: 20 px
    cy, cx = ndimage.center_of_mass(a)
    assert abs(cy - 14) <= 0.51 and abs(cx - 14) <= 0.51
    assert a[:2].sum() == a[-2:].sum() == a[:, :2].sum() == a[:, -2:].sum() == 0  # margins


def save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


# --- the steps ------------------------------------------------------------------------------

def test_to_gray_range_and_shape():
    g = images.to_gray(ring(mode="RGB", paper=(250, 240, 200), ink=(10, 10, 60)))
    assert g.shape == (200, 200) and g.dtype == np.float32
    assert 0 <= g.min() < 0.1 and 0.9 < g.max() <= 1


def test_on_paper_dark_strokes_on_clear_get_white_paper():
    img = ring(mode="RGBA", paper=(0, 0, 0, 0), ink=(0, 0, 0, 255))
    g = images.to_gray(img)
    assert g[0, 0] == 1 and g.min() == 0


def test_on_paper_white_strokes_on_clear_get_black_paper():
    img = ring(mode="RGBA", paper=(255, 255, 255, 0), ink=(255, 255, 255, 255))
    g = images.to_gray(img)
    assert g[0, 0] == 0 and g.max() == 1


def test_on_paper_clear_margin_matches_the_paper():
    img = ring(mode="RGBA", paper=(230, 230, 230, 255), ink=(0, 0, 0, 255))
    img.paste((0, 0, 0, 0), (0, 0, 200, 10))  # a transparent strip along the top
    g = images.to_gray(img)
    assert g[0, 0] == pytest.approx(230 / 255, abs=0.01)


def test_shrink_caps_the_longer_side():
    assert pp.shrink(np.zeros((3000, 1500), np.float32)).shape == (1024, 512)
    small = np.zeros((30, 20), np.float32)
    assert pp.shrink(small) is small


def test_flatten_background_removes_a_lighting_gradient():
    g = images.to_gray(ring())
    light = np.linspace(0.5, 1.0, 200, dtype=np.float32)[None, :]
    flat = pp.flatten_background(g * light)
    paper = np.asarray(ring()) == 255
    assert np.abs(flat[paper]).max() < 0.05  # the paper is flat at 0 ...
    assert flat[~paper].mean() < -0.3  # ... and the ink stays well below it


@pytest.mark.parametrize("paper,ink", [(255, 0), (0, 255), (180, 40), (40, 180)])
def test_ink_on_black_makes_the_ink_positive(paper, ink):
    x = pp.ink_on_black(images.to_gray(ring(paper=paper, ink=ink)))
    stroke = np.asarray(ring()) == 0
    assert np.median(x[~stroke]) == pytest.approx(0, abs=1e-6)
    assert x[stroke].mean() > 0.1


def test_otsu_splits_two_levels():
    x = np.r_[np.full(900, 0.1), np.full(100, 0.8)]
    assert 0.1 < ink.otsu(x) < 0.8


def test_drop_specks_keeps_the_digit_only():
    mask = np.zeros((50, 50), bool)
    mask[10:40, 20:26] = True  # the digit
    mask[2, 2] = mask[45, 45] = True  # two specks
    kept = ink.drop_specks(mask)
    assert kept.sum() == 180 and not kept[2, 2] and not kept[45, 45]


def test_find_ink_is_soft_and_drops_noise():
    rng = np.random.default_rng(0)
    x = pp.ink_on_black(images.to_gray(ring()))
    x = x + rng.normal(0, 0.03, (200, 200)).astype(np.float32)
    soft = ink.find_ink(x, 0.03)
    assert soft.min() == 0 and soft.max() == 1
    assert ((soft > 0) & (soft < 1)).any()  # soft edges kept
    assert soft[:30].sum() == 0  # noise far from the digit removed


def test_crop_to_ink():
    a = np.zeros((50, 60), np.float32)
    a[10:20, 30:35] = 1
    assert pp.crop_to_ink(a).shape == (10, 5)


def test_thicken_grows_thin_strokes_only():
    thin = pp.crop_to_ink(ink.find_digit(pp.ink_on_black(images.to_gray(ring(
        (600, 600), (100, 50, 400, 550), width=3)))))
    thick = pp.crop_to_ink(ink.find_digit(pp.ink_on_black(images.to_gray(ring()))))
    assert pp.thicken(thin).sum() > 3 * thin.sum()
    assert pp.thicken(thick) is thick


def test_fit_20px_keeps_the_aspect_ratio():
    a = pp.fit_20px(np.ones((100, 50), np.float32))
    assert a.shape == (20, 10) and a.max() == 1
    assert pp.fit_20px(np.ones((4, 8), np.float32)).shape == (10, 20)  # small ones grow


def test_center_by_mass_puts_the_mass_at_14_14():
    digit = np.zeros((20, 12), np.float32)
    digit[:, :4] = 1  # mass on the left
    a = pp.center_by_mass(digit)
    assert a.shape == (28, 28) and a.sum() == digit.sum()
    assert np.allclose(ndimage.center_of_mass(a), (14, 14), atol=0.51)


def test_to_tensor_normalises():
    t = pp.to_tensor(np.ones((28, 28), np.float32), 0.5, 0.25)
    assert t.shape == (1, 1, 28, 28) and float(t.max()) == 2.0


# --- whole images, every kind ---------------------------------------------------------------

@pytest.mark.parametrize("img", [
    one(), ring(), ring(paper=0, ink=255), one(paper=0, ink=255),
    ring(mode="RGB", paper=(245, 235, 200), ink=(20, 30, 90)),
    ring(mode="RGBA", paper=(0, 0, 0, 0), ink=(0, 0, 0, 255)),
    ring(mode="RGBA", paper=(255, 255, 255, 0), ink=(255, 255, 255, 255)),
    ring(mode="RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=4),
    ring((800, 600), (560, 380, 680, 560), width=22),  # large and off-centre
    ring((100, 100), (2, 2, 98, 98), width=20),  # fills the frame
], ids=["one", "dark-on-light", "light-on-dark", "one-light-on-dark", "rgb", "rgba-black",
        "rgba-white", "palette", "large-off-centre", "fills-the-frame"])
def test_to_mnist_on_every_kind(img):
    assert_mnist_like(pp.to_mnist(img))


def test_same_digit_same_result_whatever_the_polarity():
    dark, light = pp.to_mnist(ring()), pp.to_mnist(ring(paper=0, ink=255))
    assert np.abs(dark - light).max() < 1e-5


def test_uneven_lighting_and_noise_still_find_the_digit():
    rng = np.random.default_rng(1)
    g = images.to_gray(ring((400, 300), (250, 80, 330, 220)))
    light = np.linspace(0.45, 1.0, 400, dtype=np.float32)[None, :]
    x = np.clip(g * light * 0.9 + 0.05 + rng.normal(0, 0.04, g.shape), 0, 1)
    a = pp.to_mnist(Image.fromarray((x * 255).astype(np.uint8)))
    assert_mnist_like(a)
    clean = pp.to_mnist(ring((400, 300), (250, 80, 330, 220)))
    assert np.abs(a - clean).mean() < 0.08  # about the same picture


def test_formats_round_trip(tmp_path):
    for ext in ["png", "jpg", "bmp", "gif", "tiff", "webp"]:
        assert_mnist_like(pp.prepare(save(ring(mode="RGB"), tmp_path / f"r.{ext}")))


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    path = save(one(size=(300, 200)).convert("RGB"), tmp_path / "rot.jpg", exif=exif)
    assert images.load_image(path).size == (200, 300)


# --- bad inputs: MnistError naming the file -------------------------------------------------

def assert_error(path, *words):
    with pytest.raises(MnistError) as e:
        pp.prepare(path)
    message = str(e.value)
    assert str(path) in message and "\n" not in message
    for w in words:
        assert w in message


def test_missing_file(tmp_path):
    assert_error(tmp_path / "nope.png", "no such file")


def test_folder_is_not_an_image(tmp_path):
    assert_error(tmp_path, "folder")


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is text, not a picture\n")
    assert_error(path, "not an image")


@pytest.mark.parametrize("ext", ["png", "jpg"])
def test_truncated_image(tmp_path, ext):
    noise = np.random.default_rng(0).integers(0, 256, (300, 300), np.uint8)
    path = save(Image.fromarray(noise), tmp_path / f"cut.{ext}")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_error(path, "truncated")


@pytest.mark.parametrize("img", [Image.new("L", (100, 80), 200), Image.new("RGBA", (50, 50))])
def test_blank_image(tmp_path, img):
    assert_error(save(img, tmp_path / "blank.png"), "no digit found")


def test_noise_only_image(tmp_path):
    noise = np.random.default_rng(0).normal(200, 12, (200, 200)).clip(0, 255).astype(np.uint8)
    assert_error(save(Image.fromarray(noise), tmp_path / "noise.png"), "no digit found")


def test_decompression_bomb(tmp_path, monkeypatch):
    path = save(ring(), tmp_path / "bomb.png")
    monkeypatch.setattr(images, "MAX_PIXELS", 100 * 100)
    assert_error(path, "decompression bomb")


def test_animated_gif(tmp_path):
    path = tmp_path / "anim.gif"
    ring().save(path, save_all=True, append_images=[one()], duration=100, loop=0)
    assert_error(path, "animated", "save one frame")


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_to_gray_stretches_deep_images_to_0_1(mode):
    a = np.array([[100, 300], [500, 1100]], np.float32)
    g = images.to_gray(Image.fromarray(a.astype(np.int32 if mode == "I" else np.float32)
                                       if mode != "I;16" else a.astype(np.uint16)))
    np.testing.assert_allclose(g, [[0, 0.2], [0.4, 1]], atol=1e-6)
    assert g.dtype == np.float32


def test_to_gray_maps_nan_and_flat_deep_images_safely():
    nan = images.to_gray(Image.fromarray(np.array([[np.nan, 2.0], [4.0, np.inf]], np.float32)))
    np.testing.assert_allclose(nan, [[0, 0.5], [1, 0]])
    assert images.to_gray(Image.fromarray(np.full((2, 2), 7.0, np.float32))).max() == 0


def test_to_gray_uses_pillows_luma_for_colour_and_converts_odd_modes():
    rgb = Image.fromarray(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8))
    np.testing.assert_allclose(images.to_gray(rgb), [[76 / 255, 150 / 255, 29 / 255]], atol=1e-6)
    hsv = rgb.convert("HSV")  # no direct route to L
    np.testing.assert_allclose(images.to_gray(hsv), np.asarray(
        hsv.convert("RGB").convert("L"), np.float32) / 255)


def test_to_gray_lays_transparent_palette_images_on_paper():
    p = Image.new("P", (10, 10), 0)
    p.putpalette([0, 0, 0] * 256)  # black everywhere: only transparency tells them apart
    p.paste(1, (4, 0, 6, 10))  # a black stroke
    p.info["transparency"] = 0  # on a transparent (black) background
    g = images.to_gray(p)
    assert g[0, 0] == 1 and g[0, 5] == 0  # white paper under dark strokes


def test_on_paper_keeps_opaque_pixels_and_fills_clear_ones():
    gray = np.array([[0.2, 0.9], [0.9, 0.9]], np.float32)
    alpha = np.array([[1, 1], [1, 0]], np.float32)
    out = images.on_paper(gray, alpha)
    assert out[0, 0] == pytest.approx(0.2) and out[1, 1] == pytest.approx(0.9)  # paper: median
    assert images.on_paper(gray, np.ones_like(gray)) is gray
    np.testing.assert_array_equal(images.on_paper(gray, np.zeros_like(gray)), np.ones_like(gray))
    half = images.on_paper(gray, np.array([[1, 0], [0, 0]], np.float32))  # mostly clear
    assert half[1, 1] == 1 and half[0, 0] == pytest.approx(0.2)  # dark strokes: white paper


@pytest.mark.parametrize("mode", ["LA", "RGBa"])
def test_to_gray_lays_every_alpha_mode_on_paper(mode):
    """Black, see-through pixels around an opaque black stroke: the paper shows white."""
    a = np.zeros((10, 10, 4), np.uint8)
    a[:, 4:6, 3] = 255  # the stroke is opaque; all else clear
    img = Image.fromarray(a, "RGBA").convert(mode)
    g = images.to_gray(img)
    assert g[0, 0] == 1 and g[0, 5] == 0


def test_to_gray_treats_minus_infinity_and_tiny_ranges():
    g = images.to_gray(Image.fromarray(np.array([[-np.inf, 0.0], [1e-4, 2e-4]], np.float32)))
    np.testing.assert_allclose(g, [[0, 0], [0.5, 1]], atol=1e-5)


def test_image_limits_are_inclusive_and_phone_photos_keep_their_first_frame(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 200 * 200)
    assert images.load_image(save(ring(), tmp_path / "exact.png")).size == (200, 200)
    mpo = tmp_path / "phone.mpo"
    ring(mode="RGB").save(mpo, "MPO", save_all=True, append_images=[one(mode="RGB")])
    assert images.load_image(mpo).size == (200, 200)


def test_errors_name_what_pillow_said(tmp_path):
    path = save(ring(mode="RGB"), tmp_path / "cut.png")
    path.write_bytes(path.read_bytes()[:300])
    assert_error(path, "could not be decoded, the file is truncated or damaged (OSError: ")
    assert_error(tmp_path, "is a folder, not an image. Check the path.")


def test_on_paper_boundaries():
    """Half-transparent pixels count as clear; exactly half the picture opaque is 'mostly
    clear'; strokes of grey 0.5 are light strokes (black paper)."""
    gray = np.array([[0.2, 0.2], [0.9, 0.9]], np.float32)
    half = np.array([[0.5, 0.5], [0.5, 0.5]], np.float32)
    assert (images.on_paper(gray, half) == 1).all()  # all clear: blank paper
    alpha = np.array([[1, 1], [0, 0]], np.float32)  # half opaque: mostly clear
    mid = np.full((2, 2), 0.5, np.float32)
    assert images.on_paper(mid, alpha)[1, 1] == 0  # light (0.5) strokes: black paper
    assert images.on_paper(gray, alpha)[1, 1] == 1  # dark strokes: white paper
