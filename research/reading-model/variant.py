"""Train a variant of the reading model: the `reader` recipe with some settings changed, saved
like `train --model reader` saves (calibrated, with its provenance). Run from the repository
root:

    python research/reading-model/variant.py --set label_smoothing=0.0 --out runs/reader-ls0.pth

Then compare it with weights/reader.pth on the validation kinds:
    python benchmarks/frame_filling.py --split val --limit 1000 --choose \\
        --weights weights/reader.pth runs/reader-ls0.pth
"""
import argparse
import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from mnist_digits.cli import main as cli  # noqa: E402
from mnist_digits.recipes import RECIPES  # noqa: E402


def setting(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    return name, ast.literal_eval(value)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--set", type=setting, nargs="+", required=True, metavar="NAME=VALUE")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    RECIPES["reader"] = {**RECIPES["reader"], **dict(args.set)}
    print(f"reader recipe: {RECIPES['reader']}", flush=True)
    sys.exit(cli(["train", "--model", "reader", "--out", args.out]))
