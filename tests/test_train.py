import torch
from torch import nn

from mnist_digits.bench import references
from mnist_digits.lesson import random_affine
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


def test_every_recipe_builds_a_known_model():
    from mnist_digits.recipes import MODELS, RECIPES
    assert {recipe(name).model for name in RECIPES} <= set(MODELS)
    refs = {name: recipe(name, recipes=references.RECIPES) for name in references.RECIPES}
    assert {cfg.model for cfg in refs.values()} <= set(references.MODELS)
    assert refs["reference-cnn"].model == "cnn" and refs["reference-cnn"].epochs == 45
    assert refs["reference-cnn"].batch_size == 128  # Config's, as published
