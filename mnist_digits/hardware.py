"""Which device runs, and in which precision and memory layout: what this machine does fast.

bfloat16 autocast is faster where the hardware computes bfloat16 natively (Intel AMX, AVX-512
BF16, GPUs from Ampere on) and several times *slower* where it must be emulated (most
laptops), so it is never hard-coded: `resolve` turns "auto" into a choice."""
import os
import platform
from dataclasses import replace

import torch

from .errors import MnistError

PRECISIONS = ("auto", "bf16", "fp32")
LAYOUTS = ("auto", "channels_last", "contiguous")
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


def cpu_bf16_unit() -> str | None:
    """'AMX' or 'AVX-512 BF16' if this CPU computes bfloat16 natively and oneDNN and ATen are
    allowed to use it (ONEDNN_MAX_CPU_ISA / ATEN_CPU_CAPABILITY caps are honoured), else None."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None  # Arm CPUs (Apple silicon included): float32 is the safe, fast choice
    try:
        if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return None
        if torch.backends.cpu.get_cpu_capability() in ("DEFAULT", "NO AVX", "AVX2"):
            return None
        if torch.cpu._is_amx_tile_supported():
            return "AMX"
        return "AVX-512 BF16" if torch.cpu._is_avx512_bf16_supported() else None
    except (AttributeError, RuntimeError):  # an older or unusual build: be conservative
        return None


def bf16_unit(device: torch.device) -> str | None:
    """What computes bfloat16 natively on this device, or None."""
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        return f"{torch.cuda.get_device_name(device)} tensor cores" if major >= 8 else None
    return cpu_bf16_unit() if device.type == "cpu" else None


def resolve(cfg, device: torch.device):
    """cfg with precision and layout decided for this device ("auto" replaced)."""
    precision, layout = cfg.precision, cfg.layout
    if precision not in PRECISIONS or layout not in LAYOUTS:
        raise MnistError(f"precision must be one of {', '.join(PRECISIONS)} (got "
                         f"{precision!r}) and layout one of {', '.join(LAYOUTS)} (got {layout!r}).")
    if precision == "auto":
        precision = "bf16" if bf16_unit(device) else "fp32"
    if layout == "auto":  # faster on the CPUs measured (AVX2, AVX-512); usual on CUDA
        layout = "contiguous" if device.type == "mps" else "channels_last"
    return replace(cfg, precision=precision, layout=layout)


def describe(cfg, device: torch.device) -> str:
    """One line a reader understands: which device runs, in which precision, and why."""
    chosen = resolve(cfg, device)
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
