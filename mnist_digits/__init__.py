"""MNIST handwritten digits: data, models, training, evaluation, checkpoints, prediction."""
from .errors import MnistError

__all__ = ["Config", "MnistError", "recipe"]


def __getattr__(name: str):
    """Config and recipe load the lesson, and so torch, only when first used: `python -m
    mnist_digits` must start quietly enough to answer Ctrl-C in one line."""
    if name in ("Config", "recipe"):
        from . import recipes
        return getattr(recipes, name)
    raise AttributeError(f"module 'mnist_digits' has no attribute {name!r}")
