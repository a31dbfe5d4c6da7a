"""Predict digits in your own images: python -m mnist_digits predict IMAGE_OR_FOLDER..."""
import json
import sys
from pathlib import Path

import numpy as np

from ..checkpoints import load_checkpoint, normalization, temperature
from ..errors import MnistError, printable
from ..lesson import predict_logits
from . import READER_WEIGHTS
from .photo import prepare, to_tensor

THRESHOLD = 0.8  # answers whose calibrated probability is below this are flagged uncertain:
# chosen on validation digits (benchmarks/frame_filling.py --split val --choose)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
SUFFIX_LIST = " ".join(sorted(IMAGE_SUFFIXES))


def expand_inputs(paths) -> list[tuple[Path, MnistError | None]]:
    """(path, None) per file as given and per image in a folder (sorted by name); an empty
    folder gives (folder, MnistError)."""
    out = []
    for p in map(Path, paths):
        if not p.is_dir():
            out.append((p, None))
            continue
        images = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES
                        and f.is_file() and not f.name.startswith("."))
        missing = MnistError(f"{p}: folder holds no image files ({SUFFIX_LIST}).")
        out.extend([(f, None) for f in images] or [(p, missing)])
    return out


def predict(model, meta: dict, digits: np.ndarray) -> np.ndarray:
    """(N, 28, 28) arrays in [0, 1] -> (N, 10) calibrated probabilities: the softmax of the
    logits divided by the checkpoint's temperature."""
    x = to_tensor(digits, *normalization(meta, "the checkpoint"))
    if not len(x):
        return np.zeros((0, 10), np.float32)
    device = next(model.parameters()).device
    logits = predict_logits(model, x.to(device)) / temperature(meta, "the checkpoint")
    probs = logits.softmax(1).cpu().numpy()
    if not np.isfinite(probs).all():
        raise MnistError("the model's outputs are not finite numbers: its weights or "
                         "normalisation are damaged. Use another checkpoint.")
    return probs


def answer(file, probs: np.ndarray, threshold: float, image=None) -> dict:
    """One result: digit, probability, top-3 [[digit, prob], ...], uncertain flag, image."""
    top = np.argsort(probs)[::-1][:3]
    return {"file": str(file), "digit": int(top[0]), "probability": float(probs[top[0]]),
            "top3": [[int(d), float(probs[d])] for d in top],
            "uncertain": bool(probs[top[0]] < threshold), "image": image}


def predict_paths(model, meta: dict, paths, threshold: float = THRESHOLD) -> list[dict]:
    """Results in input order; an unreadable input gives {'file', 'error'} instead."""
    results, ok = [], []
    for p, error in expand_inputs(paths):
        try:
            if error:
                raise error
            results.append({"file": str(p), "image": prepare(p)})
            ok.append(results[-1])
        except MnistError as e:
            results.append({"file": str(p), "error": str(e)})
    if ok:
        probs = predict(model, meta, np.stack([r["image"] for r in ok]))
        for r, p in zip(ok, probs, strict=True):
            r.update(answer(r["file"], p, threshold, r["image"]))
    return results


def load_model(weights=READER_WEIGHTS):
    """(model, meta); a bad checkpoint fails here, once, naming its file."""
    model, meta = load_checkpoint(weights)
    normalization(meta, weights)
    temperature(meta, weights)
    return model, meta


def predict_files(paths, weights=READER_WEIGHTS, threshold=THRESHOLD) -> list[dict]:
    """Load the checkpoint once, then predict_paths."""
    return predict_paths(*load_model(weights), paths, threshold)


def format_line(r: dict) -> str:
    """photo.png: 7 (98.2%)  top-3: 7 98.2%, 1 1.1%, 9 0.3% [uncertain]; or why it failed."""
    if "error" in r:
        return f"{r['file']}: {r['error']}"
    top = ", ".join(f"{d} {p:.1%}" for d, p in r["top3"])
    flag = " [uncertain]" if r["uncertain"] else ""
    return f"{r['file']}: {r['digit']} ({r['probability']:.1%})  top-3: {top}{flag}"


def to_json(r: dict) -> str:
    """One line of strict JSON: no NaN, names printable."""
    return json.dumps({k: printable(v) if isinstance(v, str) else v
                       for k, v in r.items() if k != "image"}, allow_nan=False)


def run(args) -> int:
    results = predict_files(args.inputs, args.weights, args.threshold)
    for r in results:
        if "error" in r:
            print(f"error: {printable(r['error'])}", file=sys.stderr)
        if args.json:
            print(to_json(r))
        elif "error" not in r:
            print(printable(format_line(r)))
    return int(any("error" in r for r in results))
