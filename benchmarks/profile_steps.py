"""Where a training step's time goes: torch.profiler over the notebook's CNNs, per operation.

Profiles training steps (forward, loss, backward, Adam) of the starter CNN and the best CNN at
their recipes' batch sizes, in the precision and layout `auto` picks here, beside two
others: the starter CNN as it was before issue 21, pooling after batch norm and ReLU (today's
pools straight after each convolution, so they run on a quarter of the pixels), and a cheaper
candidate, the best CNN with 48 filters where it has 64. Each mode
runs in its own process: natively, and capped at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2
ATEN_CPU_CAPABILITY=avx2, a laptop stand-in); on a CPU without native bfloat16 the two are the
same, so it runs once.

    python benchmarks/profile_steps.py            # about a minute on 2 cores

Writes results/profile-cpu.md: the machine, each net's median step time and its top
operations by their share of the step's own CPU time.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from mnist_digits import lesson  # noqa: E402
from mnist_digits.provenance import machine  # noqa: E402

AVX2 = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
WARM_UP = 10  # steps run before timing and profiling, not counted


class PoolLastStarter(lesson.StarterCNN):
    """The starter CNN as it was before issue 21: conv -> BN -> ReLU -> pool in both blocks."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(lesson.conv_block(1, 32), lesson.conv_block(32, 32))


NETS = {"starter CNN": (lesson.StarterCNN, "cnn"),
        "starter CNN, pooling last (before issue 21)": (PoolLastStarter, "cnn"),
        "best CNN": (lesson.BestCNN, "best"),
        "best CNN, 48 filters": (lambda: lesson.BestCNN(width=48), "best")}


def profile_net(build, recipe_name: str, steps: int) -> tuple:
    """Median step ms, (operation, share of own CPU time) for the top ten, and the Config."""
    torch.manual_seed(0)
    cfg = lesson.resolve(lesson.recipe(recipe_name), torch.device("cpu"))
    layout = lesson.memory_format(cfg.layout)
    model = build().to(memory_format=layout)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(cfg.batch_size, 1, 28, 28).contiguous(memory_format=layout)
    y = torch.randint(0, 10, (cfg.batch_size,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", torch.bfloat16, enabled=cfg.precision == "bf16"):
            loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    times = []
    for _ in range(steps + WARM_UP):  # oneDNN builds its kernels in the first steps
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    ops = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in ops)
    top = sorted(ops, key=lambda e: -e.self_cpu_time_total)[:10]
    shares = [(e.key, e.self_cpu_time_total / total) for e in top]
    return statistics.median(times[WARM_UP:]) * 1000, shares, cfg


def report(mode: str, steps: int) -> str:
    lines = [f"## {mode}", ""]
    for name, (build, recipe_name) in NETS.items():
        ms, top, cfg = profile_net(build, recipe_name, steps)
        lines += [f"**{name}** (batch {cfg.batch_size}, {cfg.precision}, {cfg.layout}): "
                  f"median step {ms:.1f} ms", "", "| operation | share of own CPU time |",
                  "|---|---|"] + [f"| `{key}` | {share:.1%} |" for key, share in top] + [""]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--mode", help=argparse.SUPPRESS)  # set for the child processes
    p.add_argument("--out", default=str(ROOT / "results"))
    args = p.parse_args()
    if args.mode:
        print(report(args.mode, args.steps))
        return
    native = lesson.bf16_unit(torch.device("cpu"))
    modes = {f"natively ({native}, bfloat16)": {}} if native else {}
    modes["AVX2 stand-in" + ("" if native else " (= natively: no native bfloat16 here)")] = AVX2
    m = machine()
    parts = [f"# Where a training step's time goes ({m['cpu']}, {m['threads']} threads, "
             f"torch {m['torch']}, commit {m['git_commit']})", "",
             "`python benchmarks/profile_steps.py`; shares are of the operations' own CPU "
             f"time over {args.steps} profiled steps, after {WARM_UP} warm-up steps.", ""]
    for mode, env in modes.items():
        out = subprocess.run([sys.executable, __file__, "--mode", mode, "--steps",
                              str(args.steps)], env={**os.environ, **env}, check=True,
                             capture_output=True, text=True)
        parts.append(out.stdout)
    text = "\n".join(parts)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "profile-cpu.md").write_text(text)
    print(text + f"\nwrote {Path(args.out) / 'profile-cpu.md'}")


if __name__ == "__main__":
    main()
