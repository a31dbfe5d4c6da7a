"""The project's commands on any platform, with no `make` needed (Windows, a bare macOS):

    python tasks.py notebook   set up .venv, then run the notebook top to bottom, in place
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


COMMANDS = {
    "setup": [],
    "notebook": [["-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                  "--ExecutePreprocessor.timeout=-1", NOTEBOOK],
                 # then keep each cell's printed lines, not every step of its progress bars
                 ["-m", "jupyter", "nbconvert", "--to", "notebook", "--inplace",
                  "--coalesce-streams", NOTEBOOK]],
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
    for args in COMMANDS[argv[0]]:
        run(PYTHON, *args)
    if argv[0] == "mutate":
        run(PYTHON, "benchmarks/mutation_report.py", f"{time.perf_counter() - start:.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
