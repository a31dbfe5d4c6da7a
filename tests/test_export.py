"""One copy of every line: the package's lesson.py is exactly the notebook's #@save cells."""
import nbformat

from mnist_digits import export, lesson, models


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


def test_the_command_line_builds_the_notebooks_models():
    assert models.MODELS["mlp"] is lesson.MLP and models.MODELS["cnn"] is lesson.StarterCNN
    assert models.MODELS["best"] is lesson.BestCNN and models.MODELS["linear"] is lesson.LinearNet


def test_each_exported_cell_names_the_cell_it_came_from():
    nb = nbformat.read(export.NOTEBOOK, as_version=4)
    lines = export.exported().splitlines()
    heads = [(i, line) for i, line in enumerate(lines) if line.startswith("# notebook cell ")]
    marked = [c for c in nb.cells if c.cell_type == "code" and "#@save" in c.source]
    assert len(heads) == len(marked) > 10
    for i, head in heads:
        number = int(head.split()[3].rstrip(":"))
        assert lines[i + 1].split("(")[0].split(":")[0] in nb.cells[number - 1].source, head
