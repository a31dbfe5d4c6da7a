"""Averaging several models' probabilities: an ensemble usually beats each member."""
import torch

from .evaluate import predict_logits


def ensemble_probs(models, x: torch.Tensor) -> torch.Tensor:
    """Mean of the members' softmax probabilities, shape (N, 10)."""
    return torch.stack([predict_logits(m, x).softmax(1) for m in models]).mean(0)


def ensemble_accuracy(models, x, y) -> float:
    preds = ensemble_probs(models, x).argmax(1)
    return 100.0 * (preds == y).float().mean().item()
