"""One frozen config for every run; RECIPES holds each architecture's defaults."""
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


RECIPES = {  # the notebook's models: linear, mlp, cnn (the starter CNN), best; and the
    # pytorch/examples net for the benchmark
    "linear": dict(epochs=5, batch_size=128, lr=2e-3),
    "mlp": dict(epochs=10, batch_size=128, lr=2e-3),
    "cnn": dict(epochs=15, batch_size=128, lr=3e-3, weight_decay=1e-4, augment=0.5),
    "best": dict(epochs=15, batch_size=256, lr=6e-3, weight_decay=5e-5, label_smoothing=0.1,
                 augment=1.0),
    "examples": dict(epochs=14, batch_size=64, lr=1.0, optimizer="adadelta", schedule="step"),
}

FAST = dict(epochs=1, subset=2000)  # CI's smoke test: seconds, not minutes


def recipe(model: str, fast: bool = False, **overrides) -> Config:
    """The default Config for an architecture, optionally in fast mode, with overrides."""
    if model not in RECIPES:
        raise MnistError(f"unknown model {model!r}: choose one of {', '.join(RECIPES)}")
    cfg = replace(Config(model=model), **RECIPES[model])
    return replace(cfg, **{**(FAST if fast else {}), **overrides})
