"""Precision, layout and device follow what the machine does fast; an override always wins."""
import pytest
import torch

from mnist_digits import hardware, lesson, recipe
from mnist_digits.data import Splits
from mnist_digits.errors import MnistError
from mnist_digits.recipes import train_model

CPU = torch.device("cpu")


def pretend_cpu(monkeypatch, isa: str, mkldnn_bf16: bool, amx: bool, avx512_bf16: bool):
    """A CPU as PyTorch would report it (ATen capability, oneDNN's bf16 check, cpuinfo)."""
    monkeypatch.setattr(lesson.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: isa)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: mkldnn_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)


NATIVE = [("AVX512", True, True, False, "AMX"), ("AVX512", True, False, True, "AVX-512 BF16")]
EMULATED = [("AVX2", False, False, False),   # a laptop without AVX-512
            ("AVX512", True, False, False),  # AVX-512 without its BF16 extension
            ("AVX2", False, True, True)]     # an AMX server capped at AVX2, the laptop stand-in


@pytest.mark.parametrize("isa, mkldnn, amx, avx512_bf16, unit", NATIVE)
def test_native_bf16_cpus_get_bf16(monkeypatch, isa, mkldnn, amx, avx512_bf16, unit):
    pretend_cpu(monkeypatch, isa, mkldnn, amx, avx512_bf16)
    assert hardware.bf16_unit(CPU) == unit
    cfg = hardware.resolve(recipe("best"), CPU)
    assert cfg.precision == "bf16" and cfg.layout == "channels_last"
    assert f"bfloat16 autocast, since this CPU computes bfloat16 natively: {unit};" in \
        hardware.describe(recipe("best"), CPU)


@pytest.mark.parametrize("isa, mkldnn, amx, avx512_bf16", EMULATED)
def test_other_cpus_get_float32(monkeypatch, isa, mkldnn, amx, avx512_bf16):
    pretend_cpu(monkeypatch, isa, mkldnn, amx, avx512_bf16)
    assert hardware.bf16_unit(CPU) is None
    cfg = hardware.resolve(recipe("best"), CPU)
    assert cfg.precision == "fp32" and cfg.layout == "channels_last"
    assert "precision: float32, since this device has no native bfloat16 unit" in \
        hardware.describe(recipe("best"), CPU)


def test_arm_cpus_get_float32(monkeypatch):
    pretend_cpu(monkeypatch, "AVX512", True, True, True)
    monkeypatch.setattr(lesson.platform, "machine", lambda: "arm64")
    assert hardware.resolve(recipe("best"), CPU).precision == "fp32"


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("asked", ["bf16", "fp32"])
def test_an_override_wins_either_way(monkeypatch, native, asked):
    pretend_cpu(monkeypatch, "AVX512" if native else "AVX2", native, native, native)
    cfg = recipe("best", precision=asked, layout="contiguous")
    assert hardware.resolve(cfg, CPU).precision == asked
    assert hardware.resolve(cfg, CPU).layout == "contiguous"
    kind = "bfloat16 autocast" if asked == "bf16" else "float32"
    assert f"precision: {kind}, as asked (precision={asked!r})" in hardware.describe(cfg, CPU)


def test_training_runs_in_the_resolved_precision(monkeypatch, tiny: Splits):
    """train_model itself decides "auto": autocast is on exactly when the CPU has bf16."""
    seen = []
    real_autocast = torch.autocast

    def spy(device_type, dtype=None, enabled=True, **kw):
        seen.append(enabled)
        return real_autocast(device_type, dtype=dtype, enabled=enabled, **kw)

    monkeypatch.setattr(torch, "autocast", spy)
    for native in (True, False):
        pretend_cpu(monkeypatch, "AVX512" if native else "AVX2", native, native, native)
        seen.clear()
        train_model(recipe("cnn", epochs=1, batch_size=64), tiny, progress=False)
        assert seen and set(seen) == {native}


def test_unknown_precision_is_a_clear_error():
    with pytest.raises(MnistError, match="precision must be one of auto, bf16, fp32"):
        hardware.resolve(recipe("cnn", precision="half"), CPU)


def test_device_falls_back_to_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(hardware, "mps_available", lambda: True)
    assert hardware.pick_device("auto").type == "mps"
    monkeypatch.setattr(hardware, "mps_available", lambda: False)
    assert hardware.pick_device("auto").type == "cpu"
    assert "CPU, " in hardware.describe(recipe("mlp"), CPU)
    assert "no CUDA or MPS GPU found" in hardware.describe(recipe("mlp"), CPU)
    for name in ("cuda", "mps"):
        with pytest.raises(MnistError, match=f"--device {name} was asked for"):
            hardware.pick_device(name)


def test_mps_keeps_float32_and_the_default_layout(monkeypatch):
    cfg = hardware.resolve(recipe("best"), torch.device("mps"))
    assert (cfg.precision, cfg.layout) == ("fp32", "contiguous")
