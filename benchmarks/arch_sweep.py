"""Architecture search for `best`, judged on the validation split only.

The variants below are the candidates the search compared with the previous `best` (five
3x3 convs at 28 -> 14 -> 7 -> 3); "s2dw" won and is now models.BestCNN. Logs:
results/arch-sweep-cuda.jsonl (full recipes, H100) and results/arch-sweep-cpu.jsonl
(one-epoch recipes on the 2-core CPU, where the seconds matter).

Run: python benchmarks/arch_sweep.py OUT.jsonl [--cpu]
"""
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # importable from a checkout

from mnist_digits import models  # noqa: E402
from mnist_digits.config import recipe  # noqa: E402
from mnist_digits.data import load_splits  # noqa: E402
from mnist_digits.models import conv_block  # noqa: E402
from mnist_digits.train import train_model  # noqa: E402


def head(c: int) -> list:
    return [nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(c, 10)]


def stem5() -> list:  # a 5x5 stride-2 convolution instead of space-to-depth
    return [nn.Conv2d(1, 32, 5, 2, 2, bias=False), nn.BatchNorm2d(32), nn.ReLU()]


VARIANTS = {  # name -> layers; pooled blocks pool before BN/ReLU except in "previous"
    "previous": lambda: [conv_block(1, 32, False), conv_block(32, 32), conv_block(32, 64, False),
                         conv_block(64, 64), conv_block(64, 128)] + head(128),
    "s2d": lambda: [nn.PixelUnshuffle(2), conv_block(4, 32, False), conv_block(32, 64, False),
                    conv_block(64, 64, True, True), conv_block(64, 128, True, True)] + head(128),
    "s2dw": lambda: list(models.BestCNN().children()),
    "s2dw96": lambda: list(models.WideCNN().children()),
    "stem5": lambda: [*stem5(), conv_block(32, 64, False), conv_block(64, 64, True, True),
                      conv_block(64, 128, True, True)] + head(128),
}
GPU_JOBS = [(k, e, b, lr, s) for s in (0, 1) for k, e, b, lr in [
    ("previous", 9, 128, 4e-3), ("s2d", 9, 128, 4e-3), ("s2d", 9, 256, 6e-3),
    ("s2d", 15, 256, 6e-3), ("s2dw", 9, 256, 6e-3), ("s2dw", 15, 256, 6e-3),
    ("stem5", 12, 256, 6e-3)]]
GPU_JOBS += [("s2dw", 15, 256, 6e-3, 2), ("s2dw", 15, 256, 6e-3, 3)] + [
    (k, 20, 256, 6e-3, s) for k in ("s2dw", "s2d") for s in (0, 1)] + [
    ("s2dw", 15, 256, 1e-2, s) for s in (0, 1)] + [("s2dw", 20, 256, 6e-3, s) for s in (2, 3)]
CPU_JOBS = [(k, 1, 256, 6e-3, 0, 0.5) for k in ("s2d", "stem5")] + [
    ("s2d", 1, 256, 6e-3, 0, 0.0), ("s2dw", 1, 256, 6e-3, 0, 0.5), ("s2d", 1, 256, 1e-2, 0, 0.5),
    ("s2dw", 1, 256, 6e-3, 1, 0.5)] + [
    ("s2dw", 1, 256, lr, s, 0.25) for lr in (8e-3, 6e-3) for s in (0, 1)]


def run(kind, epochs, batch_size, lr, seed, augment, data) -> dict:
    models.MODELS["sweep"] = lambda: nn.Sequential(*VARIANTS[kind]())
    cfg = replace(recipe("best"), model="sweep", epochs=epochs, batch_size=batch_size, lr=lr,
                  seed=seed, augment=augment)
    start = time.perf_counter()
    _, history = train_model(cfg, data, progress=False)
    return dict(kind=kind, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                augment=augment, val=history.val_acc[-1], val_curve=history.val_acc,
                train_seconds=history.seconds[-1], seconds=time.perf_counter() - start,
                device=data.train_x.device.type)


def main(out: str, cpu: bool) -> None:
    device = "cuda" if torch.cuda.is_available() and not cpu else "cpu"
    data = load_splits(recipe("best")).to(device)
    jobs = CPU_JOBS if cpu else [(*job, 1.0) for job in GPU_JOBS]
    with open(out, "w") as f:
        for job in jobs:
            row = run(*job, data)
            print(json.dumps(row), file=f, flush=True)
            print(row, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], "--cpu" in sys.argv)
