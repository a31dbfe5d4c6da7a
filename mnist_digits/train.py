"""Training by recipe from the command line: the lesson's train_model, with a progress bar."""
import sys
from functools import partial

import torch
from tqdm import tqdm

from . import lesson
from .config import Config
from .data import Splits
from .models import build_model


def train_model(cfg: Config, data: Splits, on_epoch=None,
                progress: bool = True) -> tuple[torch.nn.Module, lesson.History]:
    """Seed everything, build cfg.model and fit it, as the notebook does. Precision and layout
    left at "auto" are decided for the data's device."""
    steps = cfg.epochs * -(-len(data.train_x) // cfg.batch_size)
    with tqdm(total=steps, leave=False, disable=not progress, file=sys.stderr) as bar:
        return lesson.train_model(partial(build_model, cfg.model), cfg, data, on_epoch=on_epoch,
                                  on_step=bar.update if progress else None)
