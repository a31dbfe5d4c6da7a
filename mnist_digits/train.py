"""The training loop: Adam (or Adadelta), a learning-rate schedule, one line per epoch."""
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from .augment import random_affine
from .config import Config
from .data import Splits, make_loader
from .evaluate import evaluate
from .models import build_model


@dataclass
class History:
    """Per-epoch averages, kept for the learning curves."""
    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)  # cumulative training time, evaluation excluded


def make_optimizer(model: nn.Module, cfg: Config) -> torch.optim.Optimizer:
    if cfg.optimizer == "adadelta":
        return torch.optim.Adadelta(model.parameters(), lr=cfg.lr)
    return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def make_scheduler(optimizer, cfg: Config, steps_per_epoch: int):
    """Stepped once per batch; 'step' multiplies the rate by 0.7 after each whole epoch."""
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, cfg.lr, total_steps=max(cfg.epochs * steps_per_epoch, 8), pct_start=0.25)
    if cfg.schedule == "step":  # pytorch/examples' StepLR(step_size=1 epoch, gamma=0.7)
        return torch.optim.lr_scheduler.StepLR(optimizer, steps_per_epoch, gamma=0.7)
    return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)


def train_epoch(model, loader, optimizer, scheduler, loss_fn, cfg, generator, bar) -> float:
    """One pass over the loader; returns the mean training loss."""
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        if cfg.augment:
            x = random_affine(x, cfg.augment, generator)
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            logits = model(x)
        loss = loss_fn(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total, count = total + loss.item() * len(y), count + len(y)
        bar.update(1)
    return total / count


def fit(model, data: Splits, cfg: Config, on_epoch=None, progress: bool = True) -> History:
    """Train in place; on_epoch(epoch, model, history) may watch (the benchmark does)."""
    device = data.train_x.device
    loader = make_loader(data.train_x, data.train_y, cfg.batch_size, shuffle=True, seed=cfg.seed)
    optimizer = make_optimizer(model, cfg)
    scheduler = make_scheduler(optimizer, cfg, len(loader))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    generator = torch.Generator(device).manual_seed(cfg.seed)
    history, clock = History(), 0.0
    for epoch in range(1, cfg.epochs + 1):
        bar = tqdm(total=len(loader), desc=f"epoch {epoch}", leave=False, disable=not progress)
        start = time.perf_counter()
        train_loss = train_epoch(model, loader, optimizer, scheduler, loss_fn, cfg, generator, bar)
        clock += time.perf_counter() - start
        bar.close()
        val = evaluate(model, data.val_x, data.val_y)
        for key, value in [("train_loss", train_loss), ("val_loss", val["loss"]),
                           ("val_acc", val["accuracy"]), ("seconds", clock)]:
            getattr(history, key).append(value)
        print(f"epoch {epoch:2d}/{cfg.epochs}  train loss {train_loss:.4f}  val loss "
              f"{val['loss']:.4f}  val acc {val['accuracy']:.2f}%  ({clock:.0f}s)", flush=True)
        if on_epoch:
            on_epoch(epoch, model, history)
    return history


def train_model(cfg: Config, data: Splits, on_epoch=None, progress: bool = True):
    """Seed everything, build cfg.model and fit it: returns (model, history)."""
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model).to(data.train_x.device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model, fit(model, data, cfg, on_epoch, progress)
