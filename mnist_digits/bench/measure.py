"""Measuring tools for the benchmark: peak memory, the hardware's matmul rate, FLOPs, speed."""
import contextlib
import ctypes
import gc
import statistics
import threading
import time

import psutil
import torch
from torch.utils.flop_counter import FlopCounterMode

from ..lesson import memory_format


class PeakMemory:
    """Peak memory the block adds: resident (CPU) or allocated (CUDA), in MiB."""

    def __init__(self, device):
        self.cuda, self.peak, self._stop = device.type == "cuda", 0, threading.Event()

    def _rss(self) -> int:
        return psutil.Process().memory_info().rss  # Linux, macOS and Windows alike

    def _watch(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            gc.collect()
            with contextlib.suppress(OSError, AttributeError):
                ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed memory back to the OS
            self.base = self.peak = self._rss()
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.cuda:
            self.peak = torch.cuda.max_memory_allocated()
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self._rss())  # a block shorter than one sampling period
        self.mib = (self.peak - self.base) / 2**20  # above what the process held before


def warm_up(model, x, layout: str) -> None:
    """One untimed forward and backward, so one-time kernel setup is not charged to a recipe."""
    model(x[:128].contiguous(memory_format=memory_format(layout))).sum().backward()


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _matmul_seconds(a, b, device, reps: int) -> float:
    times = []
    for _ in range(reps + 1):  # the first call sets up kernels: not counted
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def matmul_gflops(device, dtype=torch.float32, n_max=2048, reps=10, budget_s=0.25) -> float:
    """This machine's dense matrix-multiply rate: the hardware yardstick. The size doubles
    from 256 up to n_max while one multiply stays within budget_s: emulated bfloat16, on a
    CPU without it, is fifty times slower, and 2048 x 2048 would take minutes there."""
    n = 256
    while True:
        a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
        seconds = _matmul_seconds(a, b, device, reps=1)
        if n >= n_max or 8 * seconds > budget_s:  # doubling n costs 8 times the work
            break
        n *= 2
    return 2 * n**3 / _matmul_seconds(a, b, device, reps) / 1e9


def train_flops_per_image(model, cfg, x) -> float:
    """Forward + backward FLOPs of one training step, per image (counted, not estimated)."""
    xb = x[:64].contiguous(memory_format=memory_format(cfg.layout))
    with FlopCounterMode(display=False) as counter:
        model(xb).sum().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / len(xb)


@torch.inference_mode()
def inference_speed(model, x, device, layout: str = "contiguous", reps=20) -> dict:
    """Images per second at batch 256, and the latency of one image (medians)."""
    model.eval()
    x = x[:256].contiguous(memory_format=memory_format(layout))

    def timed(batch):
        sync(device)
        start = time.perf_counter()
        model(batch)
        sync(device)
        return time.perf_counter() - start

    batch, single = x[:256], x[:1]
    for _ in range(3):
        timed(batch), timed(single)
    per_batch = statistics.median(timed(batch) for _ in range(reps))
    latency = statistics.median(timed(single) for _ in range(reps * 5))
    return {"images_per_s": 256 / per_batch, "latency_ms": 1000 * latency}
