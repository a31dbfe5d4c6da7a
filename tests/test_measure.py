"""The benchmark's yardsticks: memory on any operating system, and a matmul rate that stays
quick where the hardware is slow."""
import pytest
import torch

from mnist_digits.bench import measure
from mnist_digits.bench.measure import PeakMemory


def test_peak_memory_counts_what_the_block_holds():
    with PeakMemory(torch.device("cpu")) as mem:
        block = torch.ones(50_000_000)  # 191 MiB, freed only after the block
    assert 150 < mem.mib < 400
    del block


def test_the_matmul_yardstick_shrinks_where_the_hardware_is_slow(monkeypatch):
    """Emulated bfloat16 (1.5 GFLOP/s on an AVX2 CPU) took minutes at 2048 x 2048."""
    sizes = []

    def fake_seconds(a, b, device, reps):
        sizes.append(len(a))
        return 2 * len(a) ** 3 / rate / 1e9

    monkeypatch.setattr(measure, "_matmul_seconds", fake_seconds)
    monkeypatch.setattr(measure.torch, "randn", lambda n, *_, **__: torch.empty(n, 0))
    for rate, largest in [(1.5, 512), (10, 1024), (1e6, 2048)]:  # GFLOP/s, the size it stops at
        sizes.clear()
        assert measure.matmul_gflops(torch.device("cpu"), budget_s=0.25) == pytest.approx(rate)
        assert max(sizes) == largest and sizes[-1] == largest


def test_the_profile_names_the_operations_a_training_step_spends_its_time_on():
    from benchmarks.profile_steps import NETS, profile_net
    build, recipe_name = NETS["starter CNN"]
    ms, top, cfg = profile_net(build, recipe_name, steps=1)
    names = [name for name, _ in top]
    assert ms > 0 and cfg.batch_size == 128 and len(top) == 10
    assert "aten::convolution_backward" in names  # the backward pass is never free
    assert 0.5 < sum(share for _, share in top) <= 1 + 1e-9
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)


def test_the_profile_compares_the_starter_cnn_with_the_one_before_issue_21():
    from benchmarks.profile_steps import NETS

    def layers(model):
        return [type(m).__name__ for m in model.features.modules() if len(list(m.children())) == 0]

    today, before = (NETS[k][0]() for k in ["starter CNN", "starter CNN, pooling last (before "
                                                           "issue 21)"])
    assert layers(today) != layers(before) and sorted(layers(today)) == sorted(layers(before))
    assert layers(today)[:2] == ["Conv2d", "MaxPool2d"] and layers(before)[-1] == "MaxPool2d"


def test_the_ablations_budget_study_changes_only_the_epochs():
    from dataclasses import replace

    from benchmarks.ablation import configs
    from mnist_digits.recipes import recipe
    default, short = list(configs(0)), list(configs(0, epochs=8))
    assert default[0][1] == recipe("cnn") and default[0][1].epochs != 8
    assert [change for change, _ in short] == [change for change, _ in default]
    assert [cfg for _, cfg in short] == [replace(cfg, epochs=8) for _, cfg in default]


def test_the_laptop_timing_reads_the_accuracies_and_the_slowest_cells_of_a_run():
    from benchmarks.laptop import slowest, tested

    printed = ("MLP          test accuracy 98.23%  (9,823 / 10,000)\n"
               "best CNN     test accuracy 99.67%\nagainst the starter CNN: 37 test digits")
    assert tested(printed) == {"MLP": 98.23, "best CNN": 99.67}
    cells = [{"source": [f"cell{i} = {i}\n", "print(cell)"], "metadata": {"execution": {
        "iopub.execute_input": f"2026-12-02T11:00:00.{i}00000Z",
        "shell.execute_reply": f"2026-12-02T11:00:0{i}.{i}00000Z"}}} for i in range(1, 6)]
    took = slowest([{"source": "# words", "metadata": {}}, *cells], top=2)
    assert list(took) == ["cell 5: cell5 = 5", "cell 4: cell4 = 4", "the other cells"]
    assert took["cell 5: cell5 = 5"] == 5 and abs(took["the other cells"] - 6) < 1e-9


def test_the_laptop_timing_repeats_each_notebook_side_by_side_and_takes_medians(tmp_path,
                                                                                monkeypatch):
    import json

    from benchmarks import laptop
    calls, seconds = [], iter([300, 400, 600, 900, 310, 390, 620, 910, 290, 410, 580, 890])

    def whole_notebook(mode, scratch, data, commit=None):
        calls.append((mode, commit))
        return {"seconds": next(seconds), "precision": "fp32", "test accuracy": {}}

    monkeypatch.setattr(laptop, "whole_notebook", whole_notebook)
    monkeypatch.setattr(laptop, "modes_here", lambda: ["native", "AVX2 stand-in"])
    monkeypatch.setattr("sys.argv", ["laptop.py", "--repeats", "0", "--notebook", "--against",
                                     "4a0d0d0", "--notebook-repeats", "3", "--out", str(tmp_path)])
    laptop.main()
    assert calls == [("native", None), ("native", "4a0d0d0"), ("AVX2 stand-in", None),
                     ("AVX2 stand-in", "4a0d0d0")] * 3
    medians = json.loads((tmp_path / "laptop-cpu.json").read_text())["medians"]
    assert medians["whole notebook"]["native"] == 300
    assert medians["whole notebook at 4a0d0d0"]["AVX2 stand-in"] == 900
    assert "0.67x as long as the notebook at 4a0d0d0, AVX2 stand-in" in (
        tmp_path / "laptop-cpu.md").read_text()
