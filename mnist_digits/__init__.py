"""MNIST handwritten digits: data, models, training, evaluation, checkpoints, prediction."""
from .config import Config, recipe
from .errors import MnistError

__all__ = ["Config", "MnistError", "recipe"]
