"""This CPU natively against a stand-in for a laptop without AMX or AVX-512, side by side.

The stand-in caps oneDNN and ATen at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2),
as on most students' laptops, on the same cores. Each repeat runs the same command both ways,
one after the other (once where the CPU has no native bfloat16: there the two are the same
run): one epoch of the best CNN's recipe (`train --model best --epochs 1`,
precision left to `auto`), and with --notebook the whole notebook, top to bottom, in full mode:
the notebook alone in a scratch folder beside MNIST (the committed notebook and weights are never
touched). With --against COMMIT the notebook at that commit runs too, in a scratch copy of its
repository, side by side with today's, each mode, and the ratios are printed.

    python benchmarks/laptop.py --repeats 3 --notebook              # about 25 minutes on 2 cores
    python benchmarks/laptop.py --repeats 0 --notebook --against 4a0d0d0
    python benchmarks/laptop.py --repeats 0 --notebook --against 4a0d0d0 --notebook-repeats 3

Writes results/laptop-cpu.{json,md}; prints the machine, every run, medians and ratios, and
for each notebook run the test accuracies it printed and its slowest cells.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from mnist_digits.lesson import DATA_DIR, bf16_unit  # noqa: E402
from mnist_digits.provenance import machine  # noqa: E402

MODES = {"native": {}, "AVX2 stand-in": {"ONEDNN_MAX_CPU_ISA": "AVX2",
                                         "ATEN_CPU_CAPABILITY": "avx2"}}
NOTEBOOK = "MNIST_Handwritten_Digits.ipynb"


def modes_here() -> list[str]:
    """Both modes where this CPU computes bfloat16 natively; elsewhere the two are the same
    run (float32 on AVX2), so only the stand-in runs."""
    return list(MODES) if bf16_unit(torch.device("cpu")) else ["AVX2 stand-in"]


def env_for(mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("MNIST_FAST", *MODES["AVX2 stand-in"])}
    return {**env, **MODES[mode], "PYTHONPATH": str(ROOT)}


def one_epoch(mode: str, scratch: Path, data: str) -> dict:
    """`train --model best --epochs 1`: its training seconds and the precision it chose."""
    out = subprocess.run(
        [sys.executable, "-m", "mnist_digits", "train", "--model", "best", "--epochs", "1",
         "--out", str(scratch / "epoch.pth"), "--overwrite", "--data", data, "--device", "cpu",
         "--json"], env=env_for(mode), cwd=ROOT, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {"seconds": result["train_seconds"], "precision": result["precision"]}


def checkout(commit: str | None, work: Path) -> Path:
    """A scratch folder holding the notebook alone (today's), or the whole repository at
    `commit` (a notebook of then may import the package of then)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if commit is None:
        shutil.copy(ROOT / NOTEBOOK, work / NOTEBOOK)
        return work
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive.stdout, check=True)
    shutil.rmtree(work / DATA_DIR, ignore_errors=True)
    return work


def whole_notebook(mode: str, scratch: Path, data: str, commit: str | None = None) -> dict:
    """The notebook top to bottom in full mode in a scratch folder: wall seconds."""
    work = checkout(commit, scratch / (commit or "today"))
    try:
        (work / DATA_DIR).symlink_to(Path(data).resolve(), target_is_directory=True)
    except OSError:  # Windows without developer mode: no symlinks, so a copy
        shutil.copytree(Path(data).resolve(), work / DATA_DIR)
    start = time.perf_counter()
    env = {**env_for(mode), "PYTHONPATH": str(work)}  # a notebook of then: its own package
    env.pop("MNIST_UPDATE_WEIGHTS", None)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                    "--execute", "--inplace", "--ExecutePreprocessor.timeout=-1", NOTEBOOK],
                   env=env, cwd=work, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    cells = json.loads((work / NOTEBOOK).read_text())["cells"]
    printed = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
    bf16 = re.search(r"precision: bfloat16|train in bf16", printed)  # then's words, or today's
    return {"seconds": seconds, "precision": "bf16" if bf16 else "fp32",
            "test accuracy": tested(printed), "slowest cells": slowest(cells)}


def slowest(cells: list, top: int = 3) -> dict:
    """Seconds of the slowest code cells, by their first line, from the start and end times
    nbclient records in each cell's metadata; the rest of the cells summed."""
    took = {}
    for i, cell in enumerate(cells):
        run = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in run and "shell.execute_reply" in run:
            start, end = (datetime.fromisoformat(run[k])  # Python 3.11 reads the "Z"
                          for k in ("iopub.execute_input", "shell.execute_reply"))
            first = "".join(cell["source"]).partition("\n")[0][:50]  # a list of lines on disk
            took[f"cell {i}: {first}"] = (end - start).total_seconds()
    ranked = sorted(took.items(), key=lambda kv: -kv[1])
    return {**dict(ranked[:top]), "the other cells": sum(v for _, v in ranked[top:])}


def tested(printed: str) -> dict:
    """The test accuracies the notebook printed, by model ("best CNN   test accuracy 99.67%")."""
    found = re.findall(r"^(\w[\w ]*?) +test accuracy (\d+\.\d+)%", printed, re.MULTILINE)
    return {name: float(acc) for name, acc in found}


def summarize(runs: dict) -> dict:
    med = {k: {m: statistics.median(r["seconds"] for r in rs) for m, rs in v.items()}
           for k, v in runs.items() if v}
    return {k: {**v, "ratio": v["AVX2 stand-in"] / v["native"]} if len(v) == 2 else v
            for k, v in med.items()}


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [f"# This CPU natively against the AVX2 stand-in ({m['cpu']}, {m['threads']} "
             f"threads, torch {m['torch']}, commit {m['git_commit']})", "",
             "| what | mode | precision | seconds, each repeat | median |", "|---|---|---|---|---|"]
    notes = []
    for what, modes in result["runs"].items():
        for mode, rs in modes.items():
            secs = ", ".join(f"{r['seconds']:.1f}" for r in rs)
            lines.append(f"| {what} | {mode} | {rs[0]['precision']} | {secs} | "
                         f"{result['medians'][what][mode]:.1f} |")
            accs = ", ".join(f"{k} {v:.2f}%" for k, v in rs[0].get("test accuracy", {}).items())
            notes.append(f"- {what}, {mode}, printed test accuracies: {accs}" if accs else "")
            cells = "; ".join(f"`{k}` {v:.1f} s" for k, v in rs[0].get("slowest cells", {}).items())
            first = " (the first repeat)" if len(rs) > 1 else ""
            notes.append(f"- {what}, {mode}, slowest cells{first}: {cells}" if cells else "")
    lines += ["", *filter(None, notes)]
    lines += [f"- {what}: the stand-in takes {v['ratio']:.2f}x as long as this CPU "
              f"natively (medians)" for what, v in result["medians"].items() if "ratio" in v]
    if len(result["modes"]) == 1:
        lines.append("- this CPU has no native bfloat16 unit: natively it runs exactly as the "
                     "AVX2 stand-in (float32), so each run was made once, capped at AVX2")
    old = next((k for k in result["medians"] if k.startswith("whole notebook at")), None)
    if old and "whole notebook" in result["medians"]:
        lines += [f"- today's notebook takes {new / result['medians'][old][mode]:.2f}x as long "
                  f"as the {old.removeprefix('whole ')}, {mode}"
                  for mode, new in result["medians"]["whole notebook"].items() if mode in MODES]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--notebook", action="store_true", help="also time the whole notebook")
    p.add_argument("--against", metavar="COMMIT", help="and the notebook at this commit")
    p.add_argument("--notebook-repeats", type=int, default=1, help="time each notebook this "
                   "many times, old and new side by side each time (medians)")
    p.add_argument("--data", default=str(ROOT / DATA_DIR))
    p.add_argument("--out", default=str(ROOT / "results"))
    args = p.parse_args()
    info = machine()
    print(json.dumps(info), flush=True)
    notebooks = {"whole notebook": None}
    if args.against:
        notebooks[f"whole notebook at {args.against}"] = args.against
    modes = modes_here()
    runs = {what: {m: [] for m in modes} for what in ["one epoch, best CNN", *notebooks]}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for mode in modes:
                r = one_epoch(mode, Path(tmp), args.data)
                runs["one epoch, best CNN"][mode].append(r)
                print(f"repeat {repeat}: one epoch, {mode}: {r}", flush=True)
        for repeat in range(args.notebook_repeats if args.notebook else 0):
            for mode in modes:
                for what, commit in notebooks.items():  # side by side: old and new, each mode
                    r = whole_notebook(mode, Path(tmp), args.data, commit)
                    runs[what][mode].append(r)
                    print(f"repeat {repeat}: {what}, {mode}: {r}", flush=True)
    runs = {k: v for k, v in runs.items() if any(v.values())}
    result = {"machine": info, "modes": modes, "runs": runs, "medians": summarize(runs)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "laptop-cpu.json").write_text(json.dumps(result, indent=1))
    (out / "laptop-cpu.md").write_text(markdown(result))
    print(markdown(result) + f"wrote {out / 'laptop-cpu.md'} and {out / 'laptop-cpu.json'}")


if __name__ == "__main__":
    main()
