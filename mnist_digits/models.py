"""The networks: the seed MLP and CNN, our best CNN and its variants, the pytorch/examples net."""
import torch
from torch import nn

from .errors import MnistError
from .views import Deskew, WidthNorm


class MLP(nn.Module):
    """784 -> 128 -> 64 -> 10 with ReLU and dropout 0.2 (109,386 parameters)."""

    def __init__(self, dropout: float = 0.2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(28 * 28, 128), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(128, 64), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(64, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # logits


def conv_block(c_in: int, c_out: int, pool: bool = True, pool_first: bool = False):
    """3x3 conv -> batch norm -> ReLU (-> 2x2 max-pool). With pool_first the pooling comes
    straight after the conv, so batch norm and ReLU run on a quarter of the pixels."""
    conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
    norm_act = [nn.BatchNorm2d(c_out), nn.ReLU()]
    if not pool:
        return nn.Sequential(conv, *norm_act)
    if pool_first:
        return nn.Sequential(conv, nn.MaxPool2d(2), *norm_act)
    return nn.Sequential(conv, *norm_act, nn.MaxPool2d(2))


class SeedCNN(nn.Module):
    """Two blocks of 32 3x3 filters (BN, ReLU, max-pool), dropout 0.25, linear to 10."""

    def __init__(self, width: int = 32, dropout: float = 0.25):
        super().__init__()
        self.features = nn.Sequential(conv_block(1, width), conv_block(width, width))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Flatten(), nn.Linear(width * 7 * 7, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class BestCNN(nn.Module):
    """A VGG-style net sized for a 2-core CPU: 14 -> 7 -> 3, then global pooling.

    PixelUnshuffle folds each 2x2 block of pixels into 4 channels, so no layer runs at
    28x28 (those layers took half the time) and no pixel is thrown away."""

    def __init__(self, width: int = 64, dropout: float = 0.1):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.PixelUnshuffle(2),                                       # 1x28x28 -> 4x14x14
            conv_block(4, w, pool=False), conv_block(w, w, pool=False),
            conv_block(w, w, pool_first=True),                          # 14 -> 7
            conv_block(w, 2 * w, pool_first=True),                      # 7 -> 3
        )
        self.head = nn.Sequential(
            nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(2 * w, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class WideCNN(BestCNN):
    """BestCNN with 1.5x the channels (96, 96, 96, 192): about twice the work per image. It
    made fewer mistakes on validation but not on the test set (README: the ensemble)."""

    def __init__(self):
        super().__init__(width=96)


class DeskewCNN(BestCNN):
    """BestCNN that first stands each digit upright (views.Deskew). On validation it erred on
    other digits than BestCNN; on the test set it is worse alone, and with BestCNN and
    WidthNormCNN no better than three BestCNNs (README: the ensemble)."""

    def __init__(self):
        super().__init__()
        self.features.insert(0, Deskew())


class WidthNormCNN(BestCNN):
    """BestCNN that first stretches each digit to 16 pixels wide (views.WidthNorm): the
    third view in the same ensemble study."""

    def __init__(self):
        super().__init__()
        self.features.insert(0, WidthNorm(16))


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


MODELS = {"mlp": MLP, "cnn": SeedCNN, "best": BestCNN, "wide": WideCNN, "deskew": DeskewCNN,
          "widthnorm": WidthNormCNN, "examples": ExamplesNet}


def build_model(name: str) -> nn.Module:
    """A fresh, randomly initialised network by architecture name."""
    if name not in MODELS:
        raise MnistError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}.")
    return MODELS[name]()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
