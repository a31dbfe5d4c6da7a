"""Training-step time of the architecture-sweep variants, side by side, on synthetic batches
(the same augmentation, bf16 autocast and memory format as `train`). --profile shows where
one variant's time goes, operator by operator.

Run: python benchmarks/step_time.py [--variants previous s2dw] [--batch 256] [--profile s2dw]
"""
import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arch_sweep import VARIANTS  # noqa: E402

from mnist_digits.augment import random_affine  # noqa: E402
from mnist_digits.provenance import machine  # noqa: E402


def make_step(kind: str, batch: int, channels_last: bool):
    torch.manual_seed(0)
    model = nn.Sequential(*VARIANTS[kind]())
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    generator, loss_fn = torch.Generator().manual_seed(0), nn.CrossEntropyLoss()

    def step():
        xb = random_affine(x, 1.0, generator).contiguous(memory_format=fmt)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = loss_fn(model(xb).float(), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def ms_per_step(step, steps: int) -> float:
    for _ in range(5):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return 1000 * (time.perf_counter() - start) / steps


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--variants", nargs="+", default=["previous", "s2dw"], choices=list(VARIANTS))
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--profile", choices=list(VARIANTS))
    args = p.parse_args()
    m = machine()
    print(f"{m['cpu']}, {m['cores']} cores, torch {m['torch']}, commit {m['git_commit']}")
    for kind in args.variants:
        for cl in (True, False):
            ms = ms_per_step(make_step(kind, args.batch, cl), args.steps)
            print(f"{kind:9s} channels_last={cl!s:5s} batch {args.batch}: {ms:6.1f} ms/step, "
                  f"{ms * 55_000 / args.batch / 1000:5.1f} s per 55,000-image epoch", flush=True)
    if args.profile:
        step = make_step(args.profile, args.batch, True)
        ms_per_step(step, 1)
        with torch.profiler.profile(record_shapes=True) as prof:
            for _ in range(10):
                step()
        print(prof.key_averages(group_by_input_shape=True).table(
            sort_by="self_cpu_time_total", row_limit=15, max_name_column_width=40))


if __name__ == "__main__":
    main()
