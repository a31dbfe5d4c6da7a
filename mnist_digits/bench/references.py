"""What the benchmark measures ours against, as published: the course's reference projects'
recipes and pytorch/examples mnist/main.py (its network and its recipe)."""
from torch import nn

from ..lesson import MODELS as LESSON_MODELS
from ..lesson import RECIPES as LESSON_RECIPES


class PytorchExamplesNet(nn.Module):
    """The network of pytorch/examples mnist/main.py (returns logits, not log-probabilities)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
            nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10),
        )

    def forward(self, x):
        return self.net(x)


MODELS = {**LESSON_MODELS, "pytorch-examples": PytorchExamplesNet}
AS_PUBLISHED = dict(precision="fp32", layout="contiguous")  # float32, the default memory layout
RECIPES = {  # only what differs from the lesson's Config
    **LESSON_RECIPES,
    "best-1-epoch": dict(LESSON_RECIPES["best"], epochs=1, augment=0.5),  # ours, in a hurry
    "reference-mlp": dict(AS_PUBLISHED, model="mlp", epochs=20, lr=1e-3, weight_decay=0.0,
                          augment=0.0, schedule="constant"),
    "reference-cnn": dict(AS_PUBLISHED, model="cnn", epochs=45, lr=1e-3, weight_decay=0.0,
                          augment=0.0, schedule="constant"),
    "pytorch-examples": dict(AS_PUBLISHED, model="pytorch-examples", epochs=14, batch_size=64,
                             lr=1.0, weight_decay=0.0, augment=0.0, optimizer="adadelta",
                             schedule="step"),
}
