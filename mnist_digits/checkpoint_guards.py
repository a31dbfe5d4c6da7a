"""Guards around checkpoint files: train checks its --out before training, so a trained model
is never lost to a failed save; loads refuse hostile files (zip bombs, odd tensors)."""
import functools
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import torch

from .errors import MnistError
from .lesson import MODELS


def exists_error(path) -> MnistError:
    return MnistError(f"{path} already exists and was not overwritten. Choose another --out "
                      f"file, or pass --overwrite to replace it.")


def why(e: Exception) -> str:
    """An OSError's or torch's zip writer's reason, in a few words."""
    return getattr(e, "strerror", None) or str(e).splitlines()[0]


MIN_FREE = 16 * 2**20  # bytes free before training; the largest checkpoint is ~5 MB


def check_writable(path, overwrite: bool) -> None:
    """Before training: `path` names a file that save_checkpoint can write (its folder exists
    or can be made, takes a file and has room), so no trained model is lost to a failed save."""
    path = Path(path)
    try:
        if path.is_dir():
            raise MnistError(f"{path} is a folder; --out needs a file name, such as "
                             f"{path / 'model.pth'}.")
        if path.exists() and not path.is_file():
            raise MnistError(f"{path} is not a regular file (a device or a pipe?), so it is "
                             f"not replaced. Choose another --out.")
        if path.exists() and not overwrite:
            raise exists_error(path)
        folder = next((p for p in path.parents if p.exists()), Path("."))
        if not folder.is_dir():
            raise MnistError(f"cannot write {path}: {folder} is a file, not a folder. Choose "
                             f"another --out.")
        probe(folder, path.name)
        free = shutil.disk_usage(folder).free
    except OSError as e:
        raise MnistError(f"cannot write {path}: {why(e)}. Choose another --out, in a folder "
                         f"you can write to.") from None
    if free < MIN_FREE:
        raise MnistError(f"cannot write {path}: only {free / 2**20:.1f} MB free in {folder} "
                         f"(needs {MIN_FREE // 2**20} MB). Free some space or choose an --out "
                         f"on another disk.")


def probe(folder: Path, name: str) -> None:
    """Make and delete a file as save_checkpoint's temporary one would be (os.access can lie)."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=name, suffix=".part")
    os.close(fd)
    os.unlink(tmp)


META_ALLOWANCE = 2 * 2**20  # bytes beyond the tensors: data.pkl and torch's small records
# (the committed checkpoints' data.pkl, training history included, are 1.5 to 3.8 KB)


@functools.cache
def largest_state_bytes() -> int:
    """Bytes of the largest state dict of any architecture in MODELS (built on the meta
    device: no memory used, no random numbers drawn)."""
    with torch.device("meta"):
        states = [build().state_dict() for build in MODELS.values()]
    return max(sum(t.numel() * t.element_size() for t in s.values()) for s in states)


def entry_sizes(path: Path) -> dict[str, int]:
    """Each zip entry's declared uncompressed size, from the central directory (nothing is
    decompressed)."""
    try:
        with zipfile.ZipFile(path) as z:
            return {i.filename: i.file_size for i in z.infolist()}
    except (zipfile.BadZipFile, ValueError, NotImplementedError) as e:
        raise MnistError(f"{path} is not a readable PyTorch checkpoint ({e}). Re-save or "
                         f"re-download it.") from None


def check_size(path: Path) -> None:
    """Refuse a file, or a zip archive whose entries declare, more bytes than any checkpoint of
    ours unpacks to: a zip bomb (a small file inflating to gigabytes) is never unpacked."""
    limit, size = largest_state_bytes() + META_ALLOWANCE, path.stat().st_size
    sizes = entry_sizes(path) if size <= limit else {}  # a huge file: not even its directory
    total, big = max(size, sum(sizes.values())), max(sizes, key=sizes.get, default=None)
    if total > limit:
        largest = f" (its entry {big!r} alone {sizes[big] / 2**20:,.1f} MB)" if big else ""
        raise MnistError(f"{path} was refused unopened: it would unpack to {total / 2**20:,.1f} "
                         f"MB{largest}, more than the {limit / 2**20:.1f} MB that the largest "
                         f"model of this project needs with its metadata. Use a checkpoint "
                         f"saved by this project.")


def tensor_problem(t: torch.Tensor) -> str | None:
    """Why a loaded tensor cannot be weights (not dense, CPU, real and finite), or None."""
    if t.layout != torch.strided or t.is_nested:
        return f"is a {t.layout} tensor, not a dense one"
    if t.device.type != "cpu":
        return f"is a {t.device.type} tensor, with no values on the CPU"
    if t.is_complex() or t.is_quantized:
        return f"holds {t.dtype} numbers, not real ones"
    if t.is_floating_point() and not torch.isfinite(t).all():
        return "holds NaN or infinite values (did training diverge?)"
    return None


def check_contents(path, state: dict, meta: dict) -> None:
    """Every weight a dense, real, finite CPU tensor; meta's metrics and config dicts."""
    for name, t in state.items():
        if problem := tensor_problem(t):
            raise MnistError(f"{path}: the weight {name!r} {problem}, so the file was refused. "
                             f"Use a checkpoint saved by this project, or train again.")
    for key in ("metrics", "config"):
        if key in meta and not isinstance(meta[key], dict):
            raise MnistError(f"{path}: its meta[{key!r}] is a {type(meta[key]).__name__}, not "
                             f"a dict, so it was not saved by this project. Re-save it with "
                             f"save_checkpoint.")
