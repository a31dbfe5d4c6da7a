"""The project's commands on any platform, with no `make` needed (Windows, a bare macOS):

    python tasks.py notebook   set up .venv, then run the notebook top to bottom into runs/notebook/
                               (MNIST_UPDATE_WEIGHTS=1, for maintainers: in place, and weights/)
    python tasks.py test       set up .venv, then ruff and the whole test suite
    python tasks.py lab        set up .venv, then open the notebook in JupyterLab
    python tasks.py mutate     mutation testing of the guarantee modules -> results/mutation.txt
    python tasks.py setup      only create .venv and install requirements.txt

Standard library only. A relative MNIST_LOCAL is taken relative to the folder you typed the
command in, so `MNIST_LOCAL=../shared/mnist python tasks.py test` works from anywhere.
"""
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
NOTEBOOK = "MNIST_Handwritten_Digits.ipynb"


def run(*args) -> None:
    print("+", " ".join(map(str, args)), flush=True)
    code = subprocess.call([str(a) for a in args], cwd=ROOT)
    if code:
        sys.exit(code)


def setup() -> None:
    """Create .venv and install requirements.txt, unless done since it last changed."""
    stamp, requirements = VENV / ".installed", ROOT / "requirements.txt"
    if stamp.exists() and stamp.stat().st_mtime >= requirements.stat().st_mtime:
        return
    if not PYTHON.exists():
        print(f"+ creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    run(PYTHON, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", requirements)
    stamp.touch()


RUN_DIR = "runs/notebook"  # where a run's notebook and models go: nothing tracked changes


def notebook_commands() -> list[list[str]]:
    """Execute the notebook into runs/notebook/, or in place for the maintainers' run that
    refreshes the committed outputs and weights (MNIST_UPDATE_WEIGHTS=1, read by the notebook
    too); then keep each cell's printed lines together."""
    in_place = os.environ.get("MNIST_UPDATE_WEIGHTS") == "1"
    where = ["--inplace"] if in_place else ["--output-dir", RUN_DIR]
    result = NOTEBOOK if in_place else f"{RUN_DIR}/{NOTEBOOK}"
    return [["-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", *where,
             "--ExecutePreprocessor.timeout=-1", NOTEBOOK],
            ["-m", "jupyter", "nbconvert", "--to", "notebook", "--inplace", "--coalesce-streams",
             result]]


COMMANDS = {
    "setup": [],
    "notebook": None,  # notebook_commands(), decided when run
    "test": [["-m", "ruff", "check", "."], ["-m", "pytest", "-q"]],
    "lab": [["-m", "jupyter", "lab", NOTEBOOK]],
    "mutate": [["-m", "mutmut", "run", "--max-children", "1"]],  # then the report, timed
}


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in COMMANDS:
        sys.exit(f"usage: python tasks.py {{{','.join(COMMANDS)}}}\n\n{__doc__}")
    local = os.environ.get("MNIST_LOCAL")
    if local:  # resolved here, where the user typed it, before anything changes folder
        os.environ["MNIST_LOCAL"] = str(Path(local).expanduser().resolve())
    setup()
    start = time.perf_counter()
    for args in COMMANDS[argv[0]] if argv[0] != "notebook" else notebook_commands():
        run(PYTHON, *args)
    if argv[0] == "mutate":
        run(PYTHON, "tools/mutation_report.py", f"{time.perf_counter() - start:.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
