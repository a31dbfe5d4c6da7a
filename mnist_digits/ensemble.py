"""Averaging several models' probabilities: an ensemble usually beats each member."""
import torch

from .evaluate import predict_logits


def ensemble_probs(models, x: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
    """Mean of the members' softmax probabilities, shape (N, 10)."""
    probs = [predict_logits(m, x, channels_last=channels_last).softmax(1) for m in models]
    return torch.stack(probs).mean(0)


def ensemble_accuracy(models, x, y, channels_last: bool = False) -> float:
    preds = ensemble_probs(models, x, channels_last).argmax(1)
    return 100.0 * (preds == y).float().mean().item()
