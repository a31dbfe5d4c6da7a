"""Safe checkpoints: plain-data metadata, a SHA-256 of the weights, atomic writes, safe loads."""
import json
import os
import pickle
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import torch

from .checkpoint_guards import check_contents, check_size, exists_error, why
from .errors import MnistError
from .lesson import METRICS, MODELS, load_weights, make_meta, memory_format, save_model  # noqa: F401
from .lesson import weights_sha256 as weights_digest
from .provenance import git_commit, versions


def plain(meta: dict) -> dict:
    """Metadata as plain Python values (what weights_only loading accepts), via JSON."""
    try:
        return json.loads(json.dumps(meta, default=lambda v: v.item()))
    except (TypeError, AttributeError, ValueError) as e:
        raise MnistError(f"checkpoint metadata must be plain Python values: {e}") from None


def save_checkpoint(path, model, meta: dict, overwrite: bool = False) -> Path:
    """Write {'state_dict', 'meta'} atomically (temp file, then rename), with provenance."""
    path = Path(path)
    meta = plain({**meta, "versions": versions(), "git_commit": git_commit()})
    try:
        if path.exists() and not overwrite:
            raise exists_error(path)
        save_model(path, model, meta)  # the lesson's: whole, with the weights' SHA-256
    except (OSError, RuntimeError) as e:  # no permission, a folder or file in the way, disk full
        raise MnistError(f"could not write {path}: {why(e)}. Check that its folder can be "
                         f"written and has free space, or choose another file.") from None
    return path


def rescue_checkpoint(model, meta: dict) -> Path | None:
    """save_checkpoint to a new file in the first of runs/, the temporary folder and the home
    folder that takes it (a trained model whose save failed); None if none does."""
    name = (f"mnist-digits-rescued-{meta.get('model')}-{time.strftime('%Y%m%d-%H%M%S')}-"
            f"{os.getpid()}.pth")
    for folder in (lambda: "runs", tempfile.gettempdir, Path.home):
        try:
            return save_checkpoint(Path(folder()).absolute() / name, model, meta)
        except (MnistError, OSError, RuntimeError):  # Path.home: RuntimeError without a home
            continue
    return None


def read_checkpoint(path) -> dict:
    """Load with weights_only=True: tensors and plain Python values only, never code; sizes
    checked before, contents after."""
    path = Path(path)
    if not path.is_file():
        raise MnistError(f"No weights file at {path}. Train one with `python -m mnist_digits "
                         f"train --out {path}` or pass the path of an existing .pth file.")
    if not zipfile.is_zipfile(path):
        raise MnistError(f"{path} is not a PyTorch checkpoint (not a .pth zip archive, or "
                         f"truncated). Re-save or re-download it.")
    check_size(path)
    try:
        with warnings.catch_warnings():  # torch's notes on odd tensors: the checks below speak
            warnings.simplefilter("ignore")
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
            and all(isinstance(k, str) and torch.is_tensor(v)
                    for k, v in ckpt["state_dict"].items())):
        raise MnistError(f"{path} is not a checkpoint of this project (expected a dict with "
                         f"'state_dict' and 'meta'). Save weights with save_checkpoint.")
    check_contents(path, ckpt["state_dict"], ckpt["meta"])
    return ckpt


def misfit(error: RuntimeError, limit: int = 160) -> str:
    """The first line of what load_state_dict found wrong (a missing key, a wrong shape)."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    line = lines[1] if len(lines) > 1 else lines[0] if lines else "no detail"
    return line if len(line) <= limit else line[:limit] + "..."


def load_checkpoint(path):
    """(model in eval mode, meta); checks the architecture and the weights' SHA-256."""
    ckpt = read_checkpoint(path)
    meta, state = ckpt["meta"], ckpt["state_dict"]
    name = meta.get("model")
    if not isinstance(name, str) or name not in MODELS:
        raise MnistError(f"{path} names an unknown architecture {name!r}; known: "
                         f"{', '.join(MODELS)}.")
    if "sha256" not in meta:
        raise MnistError(f"{path} records no SHA-256 of its weights, so it cannot be checked. "
                         f"Re-save it with save_checkpoint.")
    if weights_digest(state) != meta["sha256"]:
        raise MnistError(f"{path}: the weights do not match the SHA-256 recorded when they "
                         f"were saved, so the file was altered or damaged. Re-save it.")
    model = MODELS[name]()
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise MnistError(f"{path} says it holds a {name!r} model but its weights do not fit "
                         f"that architecture ({misfit(e)}). If an earlier version of this "
                         f"project saved it, when {name!r} had other layers, train it again: "
                         f"python -m mnist_digits train --model {name}") from None
    layout = meta.get("config", {}).get("layout")  # config: a dict when present (check_contents)
    model = model.to(memory_format=memory_format(layout))  # as trained: the same kernels
    return model.eval(), meta


MIN_STD = 1e-3  # MNIST pixels lie in [0, 1]: mean in [0, 1], std in [MIN_STD, 1]


def normalization(meta: dict, path) -> tuple[float, float]:
    """The (mean, std) the model was trained with; a clear error if missing or absurd."""
    norm = meta.get("normalization")
    try:
        mean, std = float(norm["mean"]), float(norm["std"])
    except (TypeError, KeyError, ValueError, OverflowError):
        raise MnistError(f"{path} records no usable normalisation (mean and std); it was "
                         f"not saved by this project's train command or notebook.") from None
    if not (0 <= mean <= 1 and MIN_STD <= std <= 1):  # NaN fails too
        raise MnistError(f"{path} records no usable normalisation: mean {mean:g}, std {std:g}, "
                         f"but MNIST pixels lie in [0, 1], so the mean must lie in [0, 1] and "
                         f"the std in [{MIN_STD:g}, 1]. Use a checkpoint saved by this "
                         f"project's train command or notebook.")
    return mean, std


TEMPERATURES = (0.05, 20.0)  # a fitted temperature lies well inside; outside: a damaged file


def temperature(meta: dict, path) -> float:
    """The temperature the logits are divided by (calibration); 1.0 where none is recorded
    (checkpoints saved before calibration); a clear error if it is absurd."""
    value = meta.get("temperature", 1.0)
    low, high = TEMPERATURES
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise MnistError(f"{path} records an unusable temperature {value!r}: a calibrated model's "
                         f"lies between {low:g} and {high:g}. Use a checkpoint saved by this "
                         f"project's train command or notebook.")
    return float(value)


DEFAULT_WEIGHTS = "weights/best.pth"  # the notebook's best CNN: what evaluate checks
