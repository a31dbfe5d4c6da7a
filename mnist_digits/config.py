"""The recipes: the lesson's (from the notebook) and the benchmark's references as published."""
from . import lesson
from .errors import MnistError
from .lesson import FAST_RUN, Config  # noqa: F401  (the package's names)

AS_PUBLISHED = dict(precision="fp32", layout="contiguous")  # float32, the default memory layout
RECIPES = {
    **lesson.RECIPES,
    "best-1-epoch": dict(lesson.RECIPES["best"], epochs=1, augment=0.5),  # ours, in a hurry
    # the benchmark's references, as published: the course's reference projects and
    # pytorch/examples mnist/main.py
    "reference-mlp": dict(AS_PUBLISHED, model="mlp", epochs=20, batch_size=128, lr=1e-3,
                          weight_decay=0.0, augment=0.0, schedule="constant"),
    "reference-cnn": dict(AS_PUBLISHED, model="cnn", epochs=45, batch_size=128, lr=1e-3,
                          weight_decay=0.0, augment=0.0, schedule="constant"),
    "examples": dict(AS_PUBLISHED, model="examples", epochs=14, batch_size=64, lr=1.0,
                     weight_decay=0.0, augment=0.0, optimizer="adadelta", schedule="step"),
}


def recipe(name: str, fast: bool = False, **overrides) -> Config:
    """A recipe's Config, optionally in fast mode, with overrides."""
    if name not in RECIPES:
        raise MnistError(f"unknown model {name!r}: choose one of {', '.join(RECIPES)}")
    return lesson.recipe(name, fast, RECIPES, **overrides)
