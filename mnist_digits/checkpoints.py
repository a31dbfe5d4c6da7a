"""Safe checkpoints: plain-data metadata, a SHA-256 of the weights, atomic writes, safe loads."""
import hashlib
import json
import math
import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import torch

from .errors import MnistError
from .hardware import resolve
from .lesson import load_weights, save_weights
from .models import MODELS, build_model
from .provenance import git_commit, versions


def weights_digest(state_dict: dict) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def plain(meta: dict) -> dict:
    """Metadata as plain Python values (what weights_only loading accepts), via JSON."""
    try:
        return json.loads(json.dumps(meta, default=lambda v: v.item()))
    except (TypeError, AttributeError, ValueError) as e:
        raise MnistError(f"checkpoint metadata must be plain Python values: {e}") from None


def save_checkpoint(path, model, meta: dict, overwrite: bool = False) -> Path:
    """Write {'state_dict', 'meta'} atomically (temp file, then rename), with provenance."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise MnistError(f"{path} already exists and was not overwritten. Choose another "
                         f"--out file, or pass --overwrite to replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = plain({**meta, "versions": versions(), "git_commit": git_commit(),
                  "sha256": weights_digest(model.state_dict())})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            save_weights(f, model, meta)  # the lesson's torch.save
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private; a checkpoint is a normal file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_checkpoint(path) -> dict:
    """Load with weights_only=True: tensors and plain Python values only, never code."""
    path = Path(path)
    if not path.is_file():
        raise MnistError(f"No weights file at {path}. Train one with `python -m mnist_digits "
                         f"train --out {path}` or pass the path of an existing .pth file.")
    if not zipfile.is_zipfile(path):
        raise MnistError(f"{path} is not a PyTorch checkpoint (not a .pth zip archive, or "
                         f"truncated). Re-save or re-download it.")
    try:
        ckpt = load_weights(path)  # the lesson's torch.load(..., weights_only=True)
    except pickle.UnpicklingError as e:
        detail = next((ln.strip() for ln in str(e).splitlines() if "Unsupported" in ln), "")
        raise MnistError(f"{path} holds more than tensors and plain Python values, so it was "
                         f"refused (loading it could run code). Use a checkpoint saved by this "
                         f"project. {detail}") from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as e:
        raise MnistError(f"{path} is not a readable PyTorch checkpoint (truncated or not a "
                         f".pth file): {e}. Re-save or re-download it.") from None
    if not (isinstance(ckpt, dict) and isinstance(ckpt.get("state_dict"), dict)
            and isinstance(ckpt.get("meta"), dict)
            and all(torch.is_tensor(v) for v in ckpt["state_dict"].values())):
        raise MnistError(f"{path} is not a checkpoint of this project (expected a dict with "
                         f"'state_dict' and 'meta'). Save weights with save_checkpoint.")
    return ckpt


def load_checkpoint(path, expect_model: str | None = None):
    """(model in eval mode, meta); checks the architecture and the weights' SHA-256."""
    ckpt = read_checkpoint(path)
    meta, state = ckpt["meta"], ckpt["state_dict"]
    name = meta.get("model")
    if not isinstance(name, str) or name not in MODELS:
        raise MnistError(f"{path} names an unknown architecture {name!r}; known: "
                         f"{', '.join(MODELS)}.")
    if expect_model and name != expect_model:
        raise MnistError(f"{path} holds a {name!r} model, not {expect_model!r}. Pass weights "
                         f"for {expect_model!r} or ask for --model {name}.")
    if "sha256" not in meta:
        raise MnistError(f"{path} records no SHA-256 of its weights, so it cannot be checked. "
                         f"Re-save it with save_checkpoint.")
    if weights_digest(state) != meta["sha256"]:
        raise MnistError(f"{path}: the weights do not match the SHA-256 recorded when they "
                         f"were saved, so the file was altered or damaged. Re-save it.")
    model = build_model(name)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise MnistError(f"{path} says it holds a {name!r} model but its weights do not fit "
                         f"that architecture ({str(e).splitlines()[0]}).") from None
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    if config.get("layout") == "channels_last" or config.get("channels_last") is True:
        model = model.to(memory_format=torch.channels_last)  # as trained: same kernels
    return model.eval(), meta


def normalization(meta: dict, path) -> tuple[float, float]:
    """The (mean, std) the model was trained with; a clear error if missing or absurd."""
    norm = meta.get("normalization")
    try:
        mean, std = float(norm["mean"]), float(norm["std"])
        assert math.isfinite(mean) and math.isfinite(std) and std > 0
    except (TypeError, KeyError, ValueError, AssertionError):
        raise MnistError(f"{path} records no usable normalisation (mean and std > 0); it was "
                         f"not saved by this project's train command or notebook.") from None
    return mean, std


METRICS = ("accuracy", "loss", "correct", "total", "per_class")
DEFAULT_WEIGHTS = "weights/best.pth"  # the committed best model


def make_meta(cfg, data, metrics: dict, history=None) -> dict:
    """Everything needed to rebuild, normalise and judge a model, in plain Python types; the
    config as it ran, precision and memory layout decided (hardware.resolve)."""
    cfg = resolve(cfg, data.train_x.device)
    meta = {"model": cfg.model, "config": cfg.to_dict(), "seed": cfg.seed,
            "normalization": {"mean": data.mean, "std": data.std},
            "metrics": {k: metrics[k] for k in METRICS}}
    if history is not None:
        meta["history"] = {k: list(v) for k, v in vars(history).items()}
    return meta
