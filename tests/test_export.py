"""One copy of every line: the package's lesson.py is exactly the notebook's #@save cells."""
import json
import os
import shutil
import subprocess
import sys

import nbformat
from conftest import ROOT, needs_mnist

from mnist_digits import export


def test_lesson_module_is_the_notebooks_saved_cells():
    assert export.LESSON.read_text() == export.exported(), (
        "mnist_digits/lesson.py differs from the notebook's #@save cells: after editing the "
        "notebook, run `python -m mnist_digits.export`")


def test_an_edited_cell_changes_the_export(tmp_path):
    nb = nbformat.read(export.NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if "class MLP(nn.Module):  #@save" in c.source)
    cell.source = cell.source.replace("hidden1: int = 128", "hidden1: int = 512")
    nbformat.write(nb, tmp_path / "edited.ipynb")
    edited = export.exported(tmp_path / "edited.ipynb")
    assert "hidden1: int = 512" in edited and edited != export.exported()


def test_only_marked_statements_are_exported():
    source = ("def kept():  #@save\n    return 1\n\n\nprint('shown, not exported')\n\n\n"
              "@staticmethod  #@save\ndef decorated():\n    pass\n")
    blocks = export.saved_blocks(source)
    assert blocks == ["def kept():\n    return 1", "@staticmethod\ndef decorated():\n    pass"]
    assert export.saved_blocks("#@save\nimport os\n\nimport sys\n") == ["import os\n\nimport sys"]


TINY = '''class TinyNet(nn.Module):  #@save
    """A student's new model: one linear layer."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

    def forward(self, x):
        return self.net(x)


MODELS["tiny"] = TinyNet  #@save
RECIPES["tiny"] = dict(model="tiny", epochs=1, augment=0.0)  #@save'''


@needs_mnist
def test_a_model_added_in_the_notebook_trains_from_the_command_line(tmp_path):
    """One new #@save cell (a class and its recipe), exported: `train --model tiny` works,
    with no other file edited."""
    nb = nbformat.read(export.NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(TINY))
    nbformat.write(nb, tmp_path / "edited.ipynb")
    package = tmp_path / "mnist_digits"
    shutil.copytree(ROOT / "mnist_digits", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "lesson.py").write_text(export.exported(tmp_path / "edited.ipynb"))
    out = subprocess.run(
        [sys.executable, "-m", "mnist_digits", "train", "--model", "tiny", "--fast", "--data",
         str(ROOT / "data"), "--out", str(tmp_path / "tiny.pth"), "--device", "cpu", "--json"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["model"] == "tiny"
    assert "tiny" in subprocess.run([sys.executable, "-m", "mnist_digits", "train", "--help"],
                                    cwd=tmp_path, capture_output=True, text=True).stdout


def test_each_exported_cell_names_the_cell_it_came_from():
    nb = nbformat.read(export.NOTEBOOK, as_version=4)
    lines = export.exported().splitlines()
    heads = [(i, line) for i, line in enumerate(lines) if line.startswith("# notebook cell ")]
    marked = [c for c in nb.cells if c.cell_type == "code" and "#@save" in c.source]
    assert len(heads) == len(marked) > 10
    for i, head in heads:
        number = int(head.split()[3].rstrip(":"))
        assert lines[i + 1].split("(")[0].split(":")[0] in nb.cells[number - 1].source, head
