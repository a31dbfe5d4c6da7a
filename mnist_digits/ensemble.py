"""Averaging several models' probabilities, optionally over shifted copies of each image
(test-time augmentation): an ensemble usually beats each of its members."""
import torch

from .evaluate import predict_logits

SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))  # (rows, columns) in pixels


def ensemble_probs(models, x: torch.Tensor, tta: bool = False) -> torch.Tensor:
    """Mean softmax over the members (and, with tta, over 1-pixel shifts), shape (N, 10)."""
    shifts = SHIFTS if tta else SHIFTS[:1]
    probs = [predict_logits(m, torch.roll(x, s, dims=(2, 3))).softmax(1)
             for m in models for s in shifts]
    return torch.stack(probs).mean(0)


def ensemble_accuracy(models, x, y, tta: bool = False) -> float:
    preds = ensemble_probs(models, x, tta).argmax(1)
    return 100.0 * (preds == y).float().mean().item()
