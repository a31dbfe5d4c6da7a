"""The committed notebook is a clean top-to-bottom run; a fast copy still runs on real MNIST."""
import ast
import json
import re
import shutil

import nbformat
import pytest
from conftest import ROOT, needs_mnist

from mnist_digits import export
from mnist_digits.checkpoints import read_checkpoint

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
    nbformat.validate(nb)  # raises on an invalid notebook
    assert nb.nbformat == 4 and nb.metadata.kernelspec.name == "python3"


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


def output_text(nb) -> list[tuple[str, str]]:
    """(stream name or output type, text) of every output: streams, results, displays."""
    return [(o.get("name", o.output_type), o.get("text") or o.get("data", {}).get("text/plain", ""))
            for c in code_cells(nb) for o in c.outputs]


def test_readable_when_rendered_statically(nb):
    """No widget state, no stderr, no traceback or warning printed anywhere, no progress-bar
    carriage returns."""
    assert "widgets" not in nb.metadata
    texts = output_text(nb)
    assert not [t for name, t in texts if name == "stderr"]
    assert not [t for _, t in texts if re.search(r"Traceback|Warning:|warnings\.warn|Error:", t)]
    assert not [t for _, t in texts if "\r" in t]


WEIGHTS = {"linear": "linear", "MLP": "mlp", "starter CNN": "cnn", "best CNN": "best"}


def test_printed_test_figures_are_the_committed_weights(nb):
    """Every test accuracy, correct count and loss the notebook prints is the one stored in
    weights/*.pth, which `evaluate` reproduces (test_smoke)."""
    line = re.compile(r"^(linear|MLP|starter CNN|best CNN)\s+test accuracy (\d+\.\d\d)%\s+"
                      r"\(([\d,]+) / 10,000\), test loss (\d\.\d{4})$", re.M)
    found = {m[1]: m.groups()[1:] for _, t in output_text(nb) for m in line.finditer(t)}
    assert set(found) == set(WEIGHTS), found
    for name, (acc, correct, loss) in found.items():
        meta = read_checkpoint(ROOT / f"weights/{WEIGHTS[name]}.pth")["meta"]
        m = meta["metrics"]
        assert (acc, int(correct.replace(",", "")), loss) == \
            (f"{m['accuracy']:.2f}", m["correct"], f"{m['loss']:.4f}"), name
    reloaded = re.search(r"reloaded 'best' .*sha256 ([0-9a-f]{12})\.\.\.\): test accuracy "
                         r"(\d+\.\d\d)%", "".join(t for _, t in output_text(nb)))
    best = read_checkpoint(ROOT / "weights/best.pth")["meta"]
    assert reloaded.groups() == (best["sha256"][:12], f"{best['metrics']['accuracy']:.2f}")


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
@pytest.mark.enable_socket  # Jupyter's kernel talks to nbclient over localhost
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
