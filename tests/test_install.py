"""`pip install .` gives the package alone, with the page's static files and the `mnist-digits`
command (built and installed offline here: no dependencies, no build isolation)."""
import configparser
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"  # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "data", "runs", "mutants", "__pycache__", "*.egg-info", "build"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp / "dist"), str(source)], check=True, capture_output=True)
    return next((tmp / "dist").glob("mnist_digits-*.whl"))


def test_the_wheel_holds_the_package_its_page_and_nothing_else(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "mnist_digits/reading/static/index.html" in names and "mnist_digits/lesson.py" in names
    assert all(n.startswith(("mnist_digits/", "mnist_digits-")) for n in names)  # no tests/


def test_the_installed_command_runs_from_elsewhere(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    entry = configparser.ConfigParser()
    entry.read(next(target.glob("*.dist-info")) / "entry_points.txt")
    assert entry["console_scripts"]["mnist-digits"] == "mnist_digits.__main__:run"
    code = ("import sys; from mnist_digits.__main__ import run; "
            "from mnist_digits.reading import serve; assert serve.PAGE.is_file(), serve.PAGE; "
            "sys.argv = ['mnist-digits', '--help']; "
            "sys.exit(run())")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(target), "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert "train" in out.stdout and "serve" in out.stdout
    assert str(target) in subprocess.run(
        [sys.executable, "-c", "import mnist_digits; print(mnist_digits.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(target)}).stdout
