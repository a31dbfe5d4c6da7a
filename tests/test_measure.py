"""The benchmark's memory figure sees what a block allocates, on any operating system."""
import torch

from mnist_digits.measure import PeakMemory


def test_peak_memory_counts_what_the_block_holds():
    with PeakMemory(torch.device("cpu")) as mem:
        block = torch.ones(50_000_000)  # 191 MiB, freed only after the block
    assert 150 < mem.mib < 400
    del block
