"""Which score tells `predict`'s mistakes from its right answers best, on the validation kinds?

The calibrated probability (what `predict` flags today) against MaxLogit-pNorm (Cattelan and
Silva 2023; Xia et al., ICLR 2025: the logits centred and divided by their p-norm, which undoes
label smoothing's uneven shrinking of the top logit). For each score: the share of the wrong
answers flagged when at most 0.5% and 1% of the right ones are (the threshold set by the right
answers' own quantile, so the scores are compared at the same cost). Run from the root:

    python research/reading-model/logit_norm.py --weights weights/reader.pth --out OUT.json
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from frame_filling import KINDS, digits, generate  # noqa: E402

from mnist_digits.checkpoints import load_checkpoint, normalization, temperature  # noqa: E402
from mnist_digits.lesson import Config, predict_logits  # noqa: E402
from mnist_digits.provenance import machine  # noqa: E402
from mnist_digits.reading.photo import prepare, to_tensor  # noqa: E402

BUDGETS = (0.5, 1.0)  # % of the right answers flagged


def scores(logits: torch.Tensor, t: float, p: float) -> dict:
    centred = logits - logits.mean(1, keepdim=True)
    pnorm = centred / centred.norm(p=p, dim=1, keepdim=True)
    return {"calibrated probability": (logits / t).softmax(1).amax(1),
            f"MaxLogit-pNorm, p = {p:g}": pnorm.amax(1)}


def flagged(score: np.ndarray, right: np.ndarray) -> dict:
    """% of the wrong answers whose score is below the threshold that flags `budget` % of the
    right ones."""
    cuts = {b: np.quantile(score[right], b / 100) for b in BUDGETS}
    return {str(b): round(100 * float((score[~right] < cut).mean()), 1) for b, cut in cuts.items()}


def main() -> None:
    a = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a.add_argument("--weights", default="weights/reader.pth")
    a.add_argument("--limit", type=int, default=1000)
    a.add_argument("--p", type=float, default=2.0)
    a.add_argument("--out", required=True)
    args = a.parse_args()
    model, meta = load_checkpoint(args.weights)
    images, labels = digits(Config.data_dir, "val")
    images, labels = images[: args.limit].numpy(), labels[: args.limit].numpy()
    all_logits, all_labels = [], []
    for kind in KINDS:
        paths = generate(images, labels, Path("runs/frame_filling"), kind)
        x = to_tensor(np.stack([prepare(path) for path in paths]), *normalization(meta, "it"))
        with torch.inference_mode():
            all_logits.append(predict_logits(model, x))
        all_labels.append(torch.from_numpy(labels))
        print(kind, flush=True)
    logits, truth = torch.cat(all_logits).float(), torch.cat(all_labels)
    right = (logits.argmax(1) == truth).numpy()
    result = {name: flagged(s.numpy(), right)
              for name, s in scores(logits, temperature(meta, args.weights), args.p).items()}
    print(json.dumps(result))
    summary = {"weights": args.weights, "split": "val", "images_per_kind": args.limit,
               "wrong": int((~right).sum()), "right": int(right.sum()),
               "wrong_flagged_at_right_budget": result, "machine": machine()}
    Path(args.out).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
