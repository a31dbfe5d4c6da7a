"""The `serve` page under load and under the heaviest uploads it accepts, measured.

Starts `python -m mnist_digits serve` on a free port (tests/helpers/serve_page.py) and measures:
1. one drawing alone (what the page sends), median milliseconds over --repeats, HTTP included;
2. --burst drawings sent at once: how many were read as the digit drawn, throughput, p50/p99;
3. the server's memory growth over --drawings drawings after the warm-up and the burst;
4. the server's peak memory while --heavy uploads of the largest images under the limits
   arrive at once.
The client is a few asyncio sockets in this process; the server's memory is sampled with
psutil every 5 ms. Prints each figure, then one JSON line with the machine.

Run: python benchmarks/serve_load.py --out results/serve-load.json
(the laptop stand-in: ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 before the command)
"""
import argparse
import asyncio
import io
import json
import math
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import psutil
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the package, and the browser helpers
from helpers.serve_page import SEVEN, drawn_png, free_port, start_server  # noqa: E402

from mnist_digits.provenance import machine  # noqa: E402
from mnist_digits.reading import READER_WEIGHTS, images  # noqa: E402


async def post(port: int, body: bytes, name: str = "drawing.png") -> tuple[int, dict, float]:
    """One POST /predict as the page sends it (same origin): status, JSON answer, seconds."""
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    origin = f"127.0.0.1:{port}"
    head = (f"POST /predict?name={name} HTTP/1.1\r\nHost: {origin}\r\nOrigin: http://{origin}"
            f"\r\nContent-Type: image/png\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n")
    writer.write(head.encode() + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(payload), time.perf_counter() - start


async def many(port: int, bodies: list[bytes], at_once: int) -> list[tuple[int, dict, float]]:
    """Send the bodies with at most `at_once` requests in flight."""
    gate = asyncio.Semaphore(at_once)

    async def one(body):
        async with gate:
            return await post(port, body)
    return await asyncio.gather(*(one(b) for b in bodies))


class PeakMemory:
    """The process's resident memory, sampled every 5 ms in a thread, while in the block."""

    def __init__(self, pid: int):
        self.proc, self.peak, self.done = psutil.Process(pid), 0, threading.Event()

    def sample(self):
        while not self.done.wait(0.005):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self):
        self.thread = threading.Thread(target=self.sample)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def heavy_images() -> list[bytes]:
    """The largest images the loader accepts, each with a digit drawn on it: grey at the pixel
    limit, RGBA at the decoded-bytes limit (PNG, 8 bytes a pixel while reduced), and a JPEG at
    the pixel limit."""
    grey_side = math.isqrt(images.MAX_PIXELS)
    rgba_side = math.isqrt(images.MAX_DECODED // 8)
    out = []
    for mode, side, fmt in [("L", grey_side, "PNG"), ("RGBA", rgba_side, "PNG"),
                            ("RGB", grey_side, "JPEG")]:
        img = Image.new(mode, (side, side), "white")
        ImageDraw.Draw(img).line([(x * side, y * side) for x, y in SEVEN[0]], "black",
                                 side // 16)
        buf = io.BytesIO()
        img.save(buf, fmt)
        out.append(buf.getvalue())
    return out


def percentile(values, q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def measure(port: int, pid: int, args) -> dict:
    drawing = drawn_png()
    asyncio.run(many(port, [drawing] * 20, 1))  # warm-up
    alone = [asyncio.run(post(port, drawing))[2] for _ in range(args.repeats)]
    start = time.perf_counter()
    burst = asyncio.run(many(port, [drawing] * args.burst, args.burst))
    wall = time.perf_counter() - start
    seconds = [s for _, _, s in burst]
    rss = psutil.Process(pid).memory_info().rss
    asyncio.run(many(port, [drawing] * args.drawings, 8))
    growth = psutil.Process(pid).memory_info().rss - rss
    heavy = heavy_images()
    with PeakMemory(pid) as mem:
        before = mem.proc.memory_info().rss
        answers = asyncio.run(many(port, [heavy[i % 3] for i in range(args.heavy)], args.heavy))
    return {
        "alone_median_ms": round(1000 * statistics.median(alone), 1),
        "burst": args.burst,
        "burst_correct": sum(s == 200 and a.get("digit") == 7 for s, a, _ in burst),
        "burst_per_second": round(args.burst / wall, 1),
        "burst_p50_s": round(percentile(seconds, 0.5), 2),
        "burst_p99_s": round(percentile(seconds, 0.99), 2),
        "heavy": args.heavy, "heavy_sizes_kb": [len(h) // 1024 for h in heavy],
        "heavy_statuses": sorted({s for s, _, _ in answers}),
        "heavy_rss_before_mb": round(before / 2**20), "heavy_peak_mb": round(mem.peak / 2**20),
        "drawings": args.drawings,
        "growth_mb": round(growth / 2**20, 1),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", default=READER_WEIGHTS)
    p.add_argument("--repeats", type=int, default=100)
    p.add_argument("--burst", type=int, default=200)
    p.add_argument("--heavy", type=int, default=10)
    p.add_argument("--drawings", type=int, default=10_000)
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(argv)
    port = free_port()
    proc, _ = start_server(args.weights, port)
    try:
        figures = measure(port, proc.pid, args)
    finally:
        proc.terminate()
        proc.wait()
    f = figures
    print(f"one drawing alone: median {f['alone_median_ms']} ms (HTTP included)")
    print(f"{f['burst']} drawings at once: {f['burst_correct']} read correctly, "
          f"{f['burst_per_second']} per second, p50 {f['burst_p50_s']} s, p99 {f['burst_p99_s']} s")
    print(f"{f['heavy']} of the heaviest uploads at once: peak {f['heavy_peak_mb']} MB "
          f"(from {f['heavy_rss_before_mb']} MB), answers {f['heavy_statuses']}")
    print(f"memory growth over {f['drawings']:,} drawings after warm-up: {f['growth_mb']} MB")
    caps = {k: os.environ[k] for k in ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")
            if k in os.environ}  # the laptop stand-in, when set
    result = {**figures, "weights": args.weights, "machine": {**machine(), **caps}}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
