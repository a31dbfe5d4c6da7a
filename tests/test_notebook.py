"""The committed notebook is a clean top-to-bottom run; a fast copy still runs on real MNIST."""
import ast
import json
import shutil

import nbformat
import pytest
from conftest import ROOT, needs_mnist

from mnist_digits import export

NOTEBOOK = ROOT / "MNIST_Handwritten_Digits.ipynb"
SECTIONS = ["Introduction", "Load the dataset", "Justify your preprocessing", "Explore the dataset",
            "Build your neural network", "Loss and optimizer", "Running your network",
            "Plot the training", "Testing your model", "Improving your model", "Benchmarks",
            "Saving your model", "Read your own handwriting", "Recap", "Try it yourself",
            "Appendix"]


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(NOTEBOOK, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def test_valid_nbformat(nb):
    nbformat.validate(nb)


def test_code_cells_ran_once_in_order(nb):
    assert [c.execution_count for c in code_cells(nb)] == list(range(1, len(code_cells(nb)) + 1))


def only_saved_definitions(source: str) -> bool:
    """A cell of #@save definitions alone (the lesson's functions), which need show nothing."""
    whole = source.splitlines()[0].strip() == export.MARK
    return whole or len(export.saved_blocks(source)) == len(ast.parse(source).body)


def test_no_error_outputs_and_every_cell_shows_something(nb):
    for cell in code_cells(nb):
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
        assert cell.outputs or only_saved_definitions(cell.source), \
            f"a code cell shows no result:\n{cell.source}"


def test_every_section_is_present_in_order(nb):
    headings = [line for c in nb.cells if c.cell_type == "markdown"
                for line in c.source.splitlines() if line.startswith("## ")]
    found = [next((i for i, h in enumerate(headings) if s in h), None) for s in SECTIONS]
    assert None not in found, dict(zip(SECTIONS, found, strict=True))
    assert found == sorted(found)


def test_readable_when_rendered_statically(nb):
    """No widget state, no stderr (tracebacks, warnings), no progress-bar carriage returns."""
    assert "widgets" not in nb.metadata
    streams = [o for c in code_cells(nb) for o in c.outputs if o.output_type == "stream"]
    assert not [o.text for o in streams if o.name == "stderr"]
    assert not [o.text for o in streams if "\r" in o.text]


def test_the_lesson_is_written_in_cells_not_imported(nb):
    source = "\n".join(c.source for c in code_cells(nb))
    for definition in ("class LinearNet(nn.Module)", "class MLP(nn.Module)",
                       "class StarterCNN(nn.Module)", "class BestCNN(nn.Module)",
                       "def train_epoch(", "def fit(", "def evaluate(", "torch.save(",
                       "torch.load(f, weights_only=True", "loss.backward()", "DataLoader(",
                       "transforms.Normalize("):
        assert definition in source, definition
    assert "mnist_digits.lesson" not in source and "mnist_digits.models" not in source


def test_committed_run_was_the_full_mode(nb):
    text = "".join(o.get("text", "") for c in code_cells(nb) for o in c.outputs)
    assert "fast mode: False" in text
    assert "train (55000, 1, 28, 28)" in text


@needs_mnist
def test_fast_copy_executes_end_to_end(tmp_path, monkeypatch):
    from nbclient import NotebookClient
    work = tmp_path / "repo"  # a copy: the committed notebook and weights are never touched
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(".git", ".venv", "runs", "data",
                                                              "*.ipynb"))
    (ROOT / "data").mkdir(exist_ok=True)
    try:
        (work / "data").symlink_to(ROOT / "data", target_is_directory=True)  # the usual place
    except OSError:  # Windows without developer mode: no symlinks, so a copy
        shutil.copytree(ROOT / "data", work / "data")
    monkeypatch.setenv("MNIST_FAST", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(work)}}).execute()
    outputs = json.dumps([c.outputs for c in code_cells(nb)])
    assert "fast mode: True" in outputs and '"output_type": "error"' not in outputs
    assert (work / "runs/notebook-fast/best.pth").exists()
