"""Averaging several models' probabilities, optionally over altered copies of each image
(test-time augmentation): an ensemble usually beats each of its members."""
import torch

from .augment import random_affine
from .evaluate import predict_logits

SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))  # (rows, columns) in pixels
WARPS = 8  # random warps per image for "warps", drawn like the training augmentation
TTA = (None, "shifts", "warps")  # the choices the benchmark makes on the validation split


def views(x: torch.Tensor, tta: str | None = None, seed: int = 0) -> list[torch.Tensor]:
    """The copies of x that each model sees: x alone, 1-pixel shifts, or x plus random warps."""
    if tta == "shifts":
        return [torch.roll(x, s, dims=(2, 3)) for s in SHIFTS]
    if tta == "warps":
        generator = torch.Generator(x.device).manual_seed(seed)
        return [x] + [random_affine(x, 1.0, generator) for _ in range(WARPS)]
    return [x]


def ensemble_probs(models, x: torch.Tensor, tta: str | None = None, seed: int = 0):
    """Mean softmax over the members and the views of each image, shape (N, 10)."""
    probs = [predict_logits(m, v).softmax(1) for v in views(x, tta, seed) for m in models]
    return torch.stack(probs).mean(0)


def ensemble_accuracy(models, x, y, tta: str | None = None, seed: int = 0) -> float:
    preds = ensemble_probs(models, x, tta, seed).argmax(1)
    return 100.0 * (preds == y).float().mean().item()
