"""One frozen config for every run; RECIPES, the one table of recipes, holds the defaults."""
from dataclasses import asdict, dataclass, replace

from .errors import MnistError


@dataclass(frozen=True)
class Config:
    model: str = "cnn"              # architecture, a key of models.MODELS: linear, mlp, cnn, best
    epochs: int = 8                 # passes over the training split
    batch_size: int = 128           # images per optimizer step
    lr: float = 3e-3                # peak learning rate
    weight_decay: float = 0.0       # L2 penalty added by Adam
    optimizer: str = "adam"         # adam, or adadelta for the pytorch/examples recipe
    schedule: str = "onecycle"      # onecycle, constant, or step (x0.7 per epoch, pytorch/examples)
    label_smoothing: float = 0.0    # cross-entropy label smoothing
    augment: float = 0.0            # strength of random shifts/rotations/scaling, 0 = off
    val_size: int = 5000            # images held out of the 60k training set for validation
    subset: int = 0                 # if > 0, train on only this many images (fast mode)
    seed: int = 0                   # seeds initial weights, shuffling, dropout and augmentation
    precision: str = "auto"         # auto (bf16 where the hardware has it natively), bf16, fp32
    layout: str = "auto"            # auto, channels_last (NHWC) or contiguous memory layout
    data_dir: str = "data"          # where torchvision keeps MNIST

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def bf16(self) -> bool:  # after hardware.resolve: autocast to bfloat16?
        return self.precision == "bf16"

    @property
    def channels_last(self) -> bool:  # after hardware.resolve: NHWC memory layout?
        return self.layout == "channels_last"


BEST = dict(epochs=15, batch_size=256, lr=6e-3, weight_decay=5e-5, label_smoothing=0.1,
            augment=1.0)
AS_PUBLISHED = dict(precision="fp32", layout="contiguous")  # float32, the default memory layout
RECIPES = {  # recipe name -> Config fields; the name is the model's unless it sets `model`
    "linear": dict(epochs=5, batch_size=128, lr=2e-3),
    "mlp": dict(epochs=10, batch_size=128, lr=2e-3),
    "cnn": dict(epochs=15, batch_size=128, lr=3e-3, weight_decay=1e-4, augment=0.5),  # starter
    "best": BEST,
    "best-1-epoch": dict(BEST, model="best", epochs=1, augment=0.5),  # ours, in a hurry (bench)
    # the benchmark's references, as published: the course's reference projects and
    # pytorch/examples mnist/main.py
    "reference-mlp": dict(AS_PUBLISHED, model="mlp", epochs=20, batch_size=128, lr=1e-3,
                          schedule="constant"),
    "reference-cnn": dict(AS_PUBLISHED, model="cnn", epochs=45, batch_size=128, lr=1e-3,
                          schedule="constant"),
    "examples": dict(AS_PUBLISHED, epochs=14, batch_size=64, lr=1.0, optimizer="adadelta",
                     schedule="step"),
}

FAST = dict(epochs=1, subset=2000)  # CI's smoke test: seconds, not minutes


def recipe(name: str, fast: bool = False, **overrides) -> Config:
    """A recipe's Config (usually named after its model), optionally in fast mode, with
    overrides."""
    if name not in RECIPES:
        raise MnistError(f"unknown model {name!r}: choose one of {', '.join(RECIPES)}")
    cfg = replace(Config(model=name), **RECIPES[name])
    return replace(cfg, **{**(FAST if fast else {}), **overrides})
