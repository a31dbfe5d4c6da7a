import torch

from mnist_digits.views import Deskew, WidthNorm, coords

BLACK, INK = -0.42, 2.8  # roughly MNIST's normalised black and white


def canvas(n: int = 1) -> torch.Tensor:
    return torch.full((n, 1, 28, 28), BLACK)


def slanted_bar(slope: float, at: int = 14) -> torch.Tensor:
    """A one-pixel stroke from row 4 to row 23, leaning `slope` columns per row."""
    x = canvas()
    for row in range(4, 24):
        x[0, 0, row, round(at + slope * (row - 13.5))] = INK
    return x


def moments(x: torch.Tensor) -> tuple[float, float, float]:
    """Centre of mass (columns, rows) and the skew, in affine_grid units."""
    ink = x - x.amin()
    u, v = coords(x)
    mass = ink.sum()
    cu, cv = (ink * u).sum() / mass, (ink * v).sum() / mass
    skew = (ink * (u - cu) * (v - cv)).sum() / (ink * (v - cv) ** 2).sum()
    return cu.item(), cv.item(), skew.item()


def ink_width(x: torch.Tensor) -> int:
    columns = (x[0, 0] > (BLACK + INK) / 2).any(0).nonzero()  # half-ink edges
    return int(columns.max() - columns.min() + 1)


def test_deskew_stands_a_slanted_stroke_upright_and_centres_it():
    x = slanted_bar(0.4, at=10)
    assert abs(moments(x)[2]) > 0.3
    cu, cv, skew = moments(Deskew()(x))
    assert abs(skew) < 0.05
    assert abs(cu) < 0.02 and abs(cv) < 0.02
    assert ink_width(Deskew()(x)) <= 2


def test_deskew_keeps_an_upright_centred_stroke():
    x = slanted_bar(0.0)
    x[..., 13] = x[..., 14]  # two pixels wide, centred on the middle of the image
    assert torch.allclose(Deskew()(x), x, atol=1e-4)


def test_width_norm_stretches_and_squeezes_to_the_width_asked():
    narrow, wide = canvas(), canvas()
    narrow[0, 0, 6:22, 12:16] = INK  # 4 pixels wide
    wide[0, 0, 6:22, 2:26] = INK  # 24 pixels wide
    for x in (narrow, wide):
        out = WidthNorm(16)(x)
        assert abs(ink_width(out) - 16) <= 1
        assert torch.equal((out[0, 0] > 0).any(1), (x[0, 0] > 0).any(1))  # heights unchanged


def test_views_work_on_batches_under_bf16_autocast_and_keep_the_background():
    x = torch.cat([slanted_bar(s) for s in (-0.3, 0.0, 0.3)])
    for view in (Deskew(), WidthNorm(12)):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = view(x)
        assert out.shape == x.shape and out.dtype == torch.float32
        assert torch.allclose(out[:, :, 0], torch.full_like(out[:, :, 0], BLACK))
