"""Which device runs, and in which precision and memory layout: what this machine does fast.

bfloat16 autocast is faster where the hardware computes bfloat16 natively (Intel AMX, AVX-512
BF16, GPUs from Ampere on) and several times *slower* where it must be emulated (most
laptops), so it is never hard-coded: the lesson's `resolve` turns "auto" into a choice."""
import os

import torch

from . import lesson
from .errors import MnistError
from .lesson import LAYOUTS, PRECISIONS, bf16_unit  # noqa: F401  (the package's names)

ISA_CAPS = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")  # honoured: they decide the kernels


def mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def pick_device(name: str = "auto") -> torch.device:
    """CUDA, then Apple's MPS, then the CPU; a clear error if the asked-for one is missing."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if mps_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise MnistError("--device cuda was asked for but PyTorch sees no CUDA GPU; "
                         "use --device cpu (or auto).")
    if name == "mps" and not mps_available():
        raise MnistError("--device mps was asked for but PyTorch sees no Apple MPS GPU; "
                         "use --device cpu (or auto).")
    return torch.device(name)


def resolve(cfg, device: torch.device):
    """The lesson's resolve; an unknown precision or layout is one clear line."""
    try:
        return lesson.resolve(cfg, device)
    except ValueError as e:
        raise MnistError(f"{e}.") from None


def describe(cfg, device: torch.device, chosen=None) -> str:
    """One line a reader understands: which device runs, in which precision, and why. cfg
    as asked; chosen: cfg resolved for the device, if it already is."""
    chosen = chosen or resolve(cfg, device)
    where = {"cuda": f"CUDA GPU ({torch.cuda.get_device_name(device)})" if device.type == "cuda"
             else "", "mps": "Apple GPU (MPS)",
             "cpu": f"CPU, {torch.get_num_threads()} threads (no CUDA or MPS GPU found)"}
    unit = bf16_unit(device)
    if cfg.precision != "auto":
        why = f"as asked (precision={cfg.precision!r})"
    elif unit:
        why = f"since this {device.type.upper()} computes bfloat16 natively: {unit}"
    else:
        why = "since this device has no native bfloat16 unit, where bfloat16 would be slower"
        caps = [v for v in ISA_CAPS if v in os.environ]
        why += f" (capped by {', '.join(caps)})" if caps else ""
    kind = "bfloat16 autocast" if chosen.precision == "bf16" else "float32"
    return (f"device: {where[device.type]}; precision: {kind}, {why}; "
            f"memory layout: {chosen.layout.replace('_', '-')}")
