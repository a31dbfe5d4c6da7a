"""The networks by name: the lesson's (from the notebook) and the pytorch/examples net."""
import torch
from torch import nn

from . import lesson
from .errors import MnistError


class ExamplesNet(nn.Module):
    """The network of pytorch/examples mnist/main.py (returns logits, not log-probabilities)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
            nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


MODELS = {**lesson.MODELS, "examples": ExamplesNet}


def build_model(name: str) -> nn.Module:
    """A fresh, randomly initialised network by architecture name."""
    if name not in MODELS:
        raise MnistError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}.")
    return MODELS[name]()

