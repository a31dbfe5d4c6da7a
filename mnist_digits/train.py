"""Training by architecture name: seed, build, fit (the loop itself is the lesson's `fit`)."""
import torch

from .config import Config
from .data import Splits
from .lesson import History, fit
from .models import build_model


def train_model(cfg: Config, data: Splits, on_epoch=None,
                progress: bool = True) -> tuple[torch.nn.Module, History]:
    """Seed everything, build cfg.model and fit it, as the notebook does cell by cell.
    Precision and layout left at "auto" are decided for the data's device."""
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model).to(data.train_x.device)
    return model, fit(model, data, cfg, on_epoch, progress)
