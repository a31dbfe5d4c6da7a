"""The committed notebook is a clean top-to-bottom run of a lesson that stands alone: it imports
only the course's packages, teaches from one batch up, and a fast run of it alone in an empty
folder works and writes nothing but its runs/ folder."""
import ast
import json
import os
import re
import shutil
import sys

import nbformat
import pytest
from conftest import ROOT, needs_mnist

from mnist_digits import export
from mnist_digits.checkpoints import read_checkpoint
from mnist_digits.data import FILES

NOTEBOOK = ROOT / "MNIST_Handwritten_Digits.ipynb"
SECTIONS = ["Introduction", "Load the dataset", "Justify your preprocessing", "Explore the dataset",
            "Build your neural network", "Loss and optimizer", "Running your network",
            "Plot the training", "Testing your model", "Improving your model", "Benchmarks",
            "Saving your model", "Read your own handwriting", "Recap", "Try it yourself",
            "Appendix"]
ALLOWED = {"torch", "torchvision", "matplotlib", "numpy"}  # the course brief's packages


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


def only_definitions(source: str) -> bool:
    """A cell that only defines (functions, classes, the lesson's #@save statements), which
    need show nothing."""
    whole = source.splitlines()[0].strip() == export.MARK
    lines = source.splitlines()
    return whole or all(isinstance(n, (ast.FunctionDef, ast.ClassDef))
                        or export.MARK in lines[n.lineno - 1] for n in ast.parse(source).body)


def test_no_error_outputs_and_every_cell_shows_something(nb):
    for cell in code_cells(nb):
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
        assert cell.outputs or only_definitions(cell.source), \
            f"a code cell shows no result:\n{cell.source}"


def test_every_section_is_present_in_order(nb):
    headings = [line for c in nb.cells if c.cell_type == "markdown"
                for line in c.source.splitlines() if line.startswith("## ")]
    found = [next((i for i, h in enumerate(headings) if s in h), None) for s in SECTIONS]
    assert None not in found, dict(zip(SECTIONS, found, strict=True))
    assert found == sorted(found)


def imported_modules(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


def test_imports_only_the_standard_library_and_the_brief_packages(nb):
    used = set().union(*(imported_modules(c.source) for c in code_cells(nb)))
    assert used - ALLOWED - set(sys.stdlib_module_names) == set()
    assert imported_modules("from mnist_digits.lesson import fit\nimport sklearn") == \
        {"mnist_digits", "sklearn"}  # the check itself sees both kinds of import


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
    """Every test accuracy, correct count, loss and interval the notebook prints is the one
    stored in weights/*.pth, which `evaluate` reproduces (test_smoke)."""
    line = re.compile(r"^(linear|MLP|starter CNN|best CNN)\s+test accuracy (\d+\.\d\d)%\s+"
                      r"\(([\d,]+) / 10,000\), test loss (\d\.\d{4}); 95% interval "
                      r"(\d+\.\d\d)-(\d+\.\d\d)%$", re.M)
    found = {m[1]: m.groups()[1:] for _, t in output_text(nb) for m in line.finditer(t)}
    assert set(found) == set(WEIGHTS), found
    for name, (acc, correct, loss, low, high) in found.items():
        m = read_checkpoint(ROOT / f"weights/{WEIGHTS[name]}.pth")["meta"]["metrics"]
        assert (acc, int(correct.replace(",", "")), loss) == \
            (f"{m['accuracy']:.2f}", m["correct"], f"{m['loss']:.4f}"), name
        assert float(low) < m["accuracy"] < float(high) < 100, name
    reloaded = re.search(r"reloaded 'best' .*sha256 ([0-9a-f]{12})\.\.\.\): test accuracy "
                         r"(\d+\.\d\d)%", "".join(t for _, t in output_text(nb)))
    best = read_checkpoint(ROOT / "weights/best.pth")["meta"]
    assert reloaded.groups() == (best["sha256"][:12], f"{best['metrics']['accuracy']:.2f}")


def test_printed_temperatures_are_the_committed_weights(nb):
    """Each saved model's temperature, printed as it is saved, is the one its checkpoint holds
    (and predict, serve and evaluate use); the best CNN's is the one the calibration cell fitted."""
    text = "".join(t for _, t in output_text(nb))
    saved = dict(re.findall(r"saved weights/(\w+)\.pth \(temperature (\d\.\d{3})\)", text))
    assert set(saved) == set(WEIGHTS.values()), saved
    for name, t in saved.items():
        assert f"{read_checkpoint(ROOT / f'weights/{name}.pth')['meta']['temperature']:.3f}" == t
    fitted = re.search(r"temperature fitted on the validation split: T = (\d\.\d{3})", text)[1]
    assert fitted == saved["best"] and float(fitted) < 1  # label smoothing: too modest


def first_cell(nb, text: str, kind: str = "code") -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == kind and text in c.source)


def test_the_lesson_grows_from_one_batch_by_hand(nb):
    """One batch by hand (forward, loss, backward, a gradient printed, step), then a bare loop,
    then fit; no precision or memory-layout jargon before the section that explains it."""
    by_hand = first_cell(nb, "loss.backward()")
    assert "optimizer.step()" in nb.cells[by_hand].source
    assert "weight.grad" in nb.cells[by_hand].source
    bare_loop = first_cell(nb, "for x, y in batches(")
    engineering = first_cell(nb, "### 7.3 Making training fast", "markdown")
    assert by_hand < bare_loop < engineering < first_cell(nb, "def fit(")
    early = "\n".join(c.source for c in nb.cells[:engineering]).lower()
    for jargon in ("autocast", "channels_last", "channels-last", "bfloat16", "bf16", "avx", "amx"):
        assert jargon not in early, jargon


def test_the_lesson_is_written_in_cells(nb):
    source = "\n".join(c.source for c in code_cells(nb))
    for definition in ("def load_mnist(", "def split(", "def batches(", "def random_affine(",
                       "class Config", "RECIPES = {", "class LinearNet(nn.Module)",
                       "class MLP(nn.Module)", "class StarterCNN(nn.Module)",
                       "class BestCNN(nn.Module)", "def train_epoch(", "def fit(",
                       "def evaluate(", "def mcnemar(", "torch.save(",
                       "torch.load(f, weights_only=True", "DataLoader(", "transforms.Normalize("):
        assert definition in source, definition


def assigned(nb, name: str):
    """The value a code cell assigns to `name`, evaluated (dict() calls allowed)."""
    for cell in code_cells(nb):
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
                return eval(compile(ast.Expression(node.value), name, "eval"), {"dict": dict})
    raise AssertionError(f"no cell assigns {name}")


def test_the_study_changes_one_thing_per_row(nb):
    study = assigned(nb, "STUDY")
    assert len(study) >= 7 and study[0][1] == {}
    assert all(len(change) == 1 for _, change in study[1:])
    settings = {}
    for _, change in study:
        settings.update(change)
    best = {k: v for k, v in assigned(nb, "RECIPES")["best"].items() if k != "epochs"}
    assert best.items() <= settings.items()  # the last row is the best CNN's recipe


def test_quoted_benchmark_figures_are_the_results_files(nb):
    bench = json.loads((ROOT / "results/bench-cpu.json").read_text())["runs"]
    ten = json.loads((ROOT / "results/bench-10-epochs-cpu.json").read_text())["runs"]
    labels = ["reference MLP", "reference CNN", "pytorch/examples", "ours, 1 epoch", "ours"]
    assert list(assigned(nb, "BENCH").values()) == \
        [[r["final_accuracy"] for r in bench if r["recipe"] == label] for label in labels] \
        + [[r["final_accuracy"] for r in ten if r["recipe"] == "ours" and r["epochs"] == 10]]
    steps = json.loads((ROOT / "results/ablation-cpu.json").read_text())["steps"]
    assert [row[1:] for row in assigned(nb, "FULL_STUDY")] == \
        [(round(s["val_accuracy"], 2), round(s["val_std"], 2), round(s["train_seconds"]))
         for s in steps]


def test_committed_run_was_the_full_mode(nb):
    text = "".join(o.get("text", "") for c in code_cells(nb) for o in c.outputs)
    assert "fast mode: False" in text and "models will be saved in weights/" in text
    assert "train (55000, 1, 28, 28)" in text


def copy_mnist(raw):
    raw.mkdir(parents=True)
    local = os.environ.get("MNIST_LOCAL")
    source = local if local else ROOT / "data/MNIST/raw"
    for name in FILES:
        shutil.copyfile(f"{source}/{name}", raw / name)


@needs_mnist
@pytest.mark.enable_socket  # Jupyter's kernel talks to nbclient over localhost
def test_fast_run_alone_in_an_empty_folder(tmp_path, monkeypatch):
    """What a grader with only the .ipynb does: an empty folder, MNIST's four files in
    data/MNIST/raw/, no repository and no package on the path. It runs, reports its time, and
    writes nothing outside runs/ (so in the repository it changes no tracked file)."""
    from nbclient import NotebookClient
    copy_mnist(tmp_path / "data/MNIST/raw")
    for name in ("PYTHONPATH", "MNIST_UPDATE_WEIGHTS", "MNIST_LOCAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MNIST_FAST", "1")
    before = {p for p in tmp_path.rglob("*")}
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = json.dumps([c.outputs for c in code_cells(nb)])
    assert "fast mode: True" in outputs and '"output_type": "error"' not in outputs
    assert "the whole notebook took" in outputs
    new = {p.relative_to(tmp_path).parts for p in tmp_path.rglob("*") if p not in before}
    assert {parts[0] for parts in new} <= {"runs", "data"}
    assert not [p for p in new if p[0] == "data" and p[-1].endswith(".pth")]
    assert (tmp_path / "runs/notebook/best.pth").exists()
    assert read_checkpoint(tmp_path / "runs/notebook/best.pth")["meta"]["model"] == "best"
