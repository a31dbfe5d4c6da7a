import pytest
import torch
from scipy import ndimage
from torch import nn

from mnist_digits import lesson
from mnist_digits.bench import references
from mnist_digits.lesson import (
    STYLES,
    broken,
    dilate,
    ink_styles,
    random_affine,
    stretched,
    thicker,
)
from mnist_digits.recipes import build_model, recipe, train_model


def test_one_batch_overfits():
    torch.manual_seed(0)
    model = build_model("cnn")
    x, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))  # random labels: memorise
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(150):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    assert (model.eval()(x).argmax(1) == y).all()


def tiny_cfg(seed=0, **kw):
    return recipe("cnn", epochs=2, batch_size=32, seed=seed, **kw)


def test_same_seed_gives_identical_weights_and_metrics(tiny):
    (a, ha), (b, hb) = (train_model(tiny_cfg(augment=0.5), tiny, progress=False) for _ in range(2))
    for pa, pb in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb)
    assert ha.train_loss == hb.train_loss and ha.val_acc == hb.val_acc


def test_another_seed_gives_other_weights(tiny):
    a, _ = train_model(tiny_cfg(seed=0), tiny, progress=False)
    b, _ = train_model(tiny_cfg(seed=1), tiny, progress=False)
    assert not torch.equal(a.head[2].weight, b.head[2].weight)


def test_history_has_one_entry_per_epoch_and_learns(tiny, capsys):
    _, history = train_model(recipe("mlp", epochs=3, batch_size=32), tiny, progress=False)
    assert len(history.train_loss) == len(history.val_acc) == len(history.seconds) == 3
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_acc[-1] > 50  # the synthetic task is easy; chance is 10%
    assert capsys.readouterr().out.count("val acc") == 3  # one printed line per epoch


def test_every_recipe_trains_a_step(tiny):
    for name in ("mlp", "cnn", "best", "pytorch-examples"):
        small = recipe(name, recipes=references.RECIPES, epochs=1, batch_size=64)
        model, history = train_model(small, tiny, references.MODELS, progress=False)
        assert torch.isfinite(torch.tensor(history.train_loss)).all(), name


def test_augmentation_keeps_shape_and_background():
    x = torch.full((8, 1, 28, 28), -0.42)
    x[:, :, 10:18, 10:18] = 2.8
    out = random_affine(x, 1.0, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert torch.allclose(out[:, :, 0, 0], torch.tensor(-0.42))  # corners stay background
    assert not torch.allclose(out, x)  # but the digit moved
    assert torch.equal(random_affine(x, 0.0, torch.Generator()), x)  # strength 0: identity


def a_seven() -> torch.Tensor:
    """A normalised 28x28 '7' (ink 2.8, paper -0.42), 12 px wide and 16 px tall."""
    x = torch.full((1, 1, 28, 28), -0.42)
    x[0, 0, 6:8, 8:20] = 2.8
    for i in range(16):
        x[0, 0, 6 + i, 18 - i // 2: 20 - i // 2] = 2.8
    return x


def ink(x: torch.Tensor) -> torch.Tensor:
    return (x - x.amin()) / (x.amax() - x.amin())


def test_each_ink_style_does_what_it_says():
    seven, g = ink(a_seven()), torch.Generator().manual_seed(0)
    thick = thicker(seven, g)
    assert thick.sum() > 1.8 * seven.sum() and (thick >= seven).all()  # grown, nothing lost
    box = stretched(seven, g)[0, 0] > 0.5
    rows, cols = box.any(1).nonzero(), box.any(0).nonzero()
    assert rows.max() - rows.min() + 1 == 20 == cols.max() - cols.min() + 1  # fills 20x20
    assert set(box.float().unique().tolist()) <= {0.0, 1.0}  # black and white


def test_a_broken_pen_is_thin_and_cut(monkeypatch):
    marker = thicker(ink(a_seven()), None)  # strokes 4 px wide
    pen = broken(marker, torch.Generator().manual_seed(0))
    assert pen.amax() > 0.9 and pen.sum() < 0.5 * marker.sum()  # as dark, far thinner
    assert (pen[dilate(marker) == 0] == 0).all()  # on the strokes, not beside them
    monkeypatch.setattr(lesson, "gaps", lambda ink, generator: torch.zeros_like(ink))
    whole = broken(marker, None)
    assert ndimage.label(whole[0, 0] > 0.3)[1] == 1 < ndimage.label(pen[0, 0] > 0.3)[1]  # cut


def test_ink_styles_keep_the_normalisation_and_can_be_off():
    x, g = a_seven().repeat(64, 1, 1, 1), torch.Generator().manual_seed(0)
    out = ink_styles(x, 1.0, g)
    assert out.shape == x.shape and out.amin() == x.amin() and out.amax() == x.amax()
    changed = (out != x).flatten(1).any(1).float().mean()
    assert 0.2 < changed < 0.8  # each style on 20% of the digits: about half changed
    assert torch.equal(ink_styles(x, 0.0, g), x)  # strength 0: identity
    assert len(STYLES) == 3


def test_the_reader_fine_tunes_the_best_cnn_with_ink_styles():
    from dataclasses import replace

    from mnist_digits.checkpoints import DEFAULT_WEIGHTS
    reader, best = recipe("reader"), recipe("best")
    assert reader.init == DEFAULT_WEIGHTS and reader.styles > 0 == best.styles
    assert reader.lr < best.lr and reader.epochs < best.epochs  # gently, briefly
    assert replace(reader, styles=0.0, init="", epochs=best.epochs, lr=best.lr) == best


def test_every_recipe_builds_a_known_model():
    from mnist_digits.recipes import MODELS, RECIPES
    assert {recipe(name).model for name in RECIPES} <= set(MODELS)
    refs = {name: recipe(name, recipes=references.RECIPES) for name in references.RECIPES}
    assert {cfg.model for cfg in refs.values()} <= set(references.MODELS)
    assert refs["reference-cnn"].model == "cnn" and refs["reference-cnn"].epochs == 45
    assert refs["reference-cnn"].batch_size == 128  # Config's, as published


def test_a_recipe_with_init_starts_from_the_saved_weights(tiny, tmp_path):
    from mnist_digits.checkpoints import save_checkpoint
    trained, _ = train_model(recipe("mlp", epochs=1, batch_size=64), tiny, progress=False)
    path = save_checkpoint(tmp_path / "m.pth", trained, {"model": "mlp", "seed": 0})
    start, _ = train_model(recipe("mlp", epochs=0, init=str(path)), tiny, progress=False)
    fresh, _ = train_model(recipe("mlp", epochs=0), tiny, progress=False)
    for a, b, c in zip(start.parameters(), trained.parameters(), fresh.parameters(),
                       strict=True):
        assert torch.equal(a.cpu(), b.cpu()) and not torch.equal(a.cpu(), c.cpu())


def test_a_fine_tuning_recipe_checks_its_starting_checkpoint(tmp_path, capsys):
    from mnist_digits.checkpoints import save_checkpoint
    from mnist_digits.cli import check_start
    from mnist_digits.errors import MnistError
    path = save_checkpoint(tmp_path / "mlp.pth", build_model("mlp"), {"model": "mlp", "seed": 0})
    with pytest.raises(MnistError, match="holds a 'mlp' model, but the recipe fine-tunes a 'best'"):
        check_start(recipe("reader", init=str(path)))
    check_start(recipe("mlp", init=str(path)))  # the same architecture: no error
    with pytest.raises(MnistError, match="No weights file"):
        check_start(recipe("reader", init=str(tmp_path / "none.pth")))
