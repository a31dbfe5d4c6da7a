import torch

from mnist_digits.ensemble import SHIFTS, WARPS, ensemble_accuracy, ensemble_probs, views
from mnist_digits.models import build_model


def test_ensemble_of_one_is_the_model_itself(tiny):
    model = build_model("cnn").eval()
    probs = ensemble_probs([model], tiny.test_x)
    assert torch.allclose(probs, model(tiny.test_x).softmax(1), atol=1e-6)
    assert torch.allclose(probs.sum(1), torch.ones(len(probs)))


def test_ensemble_averages_members_and_shifts(tiny):
    torch.manual_seed(0)
    models = [build_model("mlp").eval() for _ in range(2)]
    x = tiny.test_x[:8]
    expected = torch.stack([m(torch.roll(x, s, dims=(2, 3))).softmax(1)
                            for m in models for s in SHIFTS]).mean(0)
    assert torch.allclose(ensemble_probs(models, x, tta="shifts"), expected, atol=1e-6)
    acc = ensemble_accuracy(models, x, tiny.test_y[:8])
    assert 0 <= acc <= 100


def test_warp_views_are_the_image_plus_seeded_warps(tiny):
    x = tiny.test_x[:8]
    warped = views(x, "warps")
    assert len(warped) == 1 + WARPS and torch.equal(warped[0], x)
    assert all(v.shape == x.shape and not torch.equal(v, x) for v in warped[1:])
    again = views(x, "warps")  # the same seed draws the same warps
    assert all(torch.equal(a, b) for a, b in zip(warped, again, strict=True))
    assert not torch.equal(warped[1], views(x, "warps", seed=1)[1])
