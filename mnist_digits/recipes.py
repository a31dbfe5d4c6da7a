"""The notebook's models and recipes by name, for the command line: build, configure, train.

Everything here comes from the lesson (the notebook's #@save cells): a model added there, with
its recipe, is trainable from the command line with no other file edited."""
import sys
from functools import partial

import torch
from tqdm import tqdm

from . import lesson
from .errors import MnistError
from .lesson import FAST_RUN, MODELS, RECIPES, Config, Splits  # noqa: F401  (the package's names)


def build_model(name: str, models: dict = MODELS) -> torch.nn.Module:
    """A fresh, randomly initialised network by architecture name."""
    if name not in models:
        raise MnistError(f"unknown model {name!r}: choose one of {', '.join(models)}.")
    return models[name]()


def recipe(name: str, fast: bool = False, recipes: dict = RECIPES, **changes) -> Config:
    """A recipe's Config, optionally in fast mode, with changes."""
    if name not in recipes:
        raise MnistError(f"unknown recipe {name!r}: choose one of {', '.join(recipes)}.")
    return lesson.recipe(name, fast, recipes, **changes)


def train_model(cfg: Config, data: Splits, models: dict = MODELS, on_epoch=None,
                progress: bool = True) -> tuple[torch.nn.Module, lesson.History]:
    """The lesson's seed, build, fit, with a progress bar. Precision and layout left at
    "auto" are decided for the data's device."""
    steps = cfg.epochs * -(-len(data.train_x) // cfg.batch_size)
    with tqdm(total=steps, leave=False, disable=not progress, file=sys.stderr) as bar:
        return lesson.train_model(partial(build_model, cfg.model, models), cfg, data,
                                  on_epoch=on_epoch, on_step=bar.update if progress else None)
