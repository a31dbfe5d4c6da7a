"""tasks.py, the no-make commands: a relative MNIST_LOCAL means the folder it was typed in."""
import os

import pytest

import tasks


@pytest.fixture
def calls(monkeypatch):
    seen = []
    monkeypatch.setattr(tasks, "setup", lambda: seen.append("setup"))
    monkeypatch.setattr(tasks, "run",
                        lambda *a: seen.append((a[1:], os.environ.get("MNIST_LOCAL"))))
    return seen


def test_test_command_resolves_mnist_local_where_it_was_typed(calls, monkeypatch, tmp_path):
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    monkeypatch.setenv("MNIST_LOCAL", "../shared/mnist")
    tasks.main(["test"])
    local = str(tmp_path / "shared" / "mnist")
    assert calls == ["setup", (("-m", "ruff", "check", "."), local),
                     (("-m", "pytest", "-q"), local)]


def test_notebook_command_runs_a_copy_into_runs(calls, monkeypatch):
    """A student's `make notebook` changes no tracked file: the executed copy and its models
    go to runs/notebook/."""
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    monkeypatch.delenv("MNIST_UPDATE_WEIGHTS", raising=False)
    tasks.main(["notebook"])
    (run, _), (tidy, local) = calls[1:]
    assert run[:3] == ("-m", "jupyter", "nbconvert") and "--execute" in run
    assert "--inplace" not in run and run[-1] == tasks.NOTEBOOK and local is None
    assert run[run.index("--output-dir") + 1] == "runs/notebook"
    assert "--coalesce-streams" in tidy and "--execute" not in tidy
    assert tidy[-1] == f"runs/notebook/{tasks.NOTEBOOK}"


def test_the_maintainers_run_executes_in_place(calls, monkeypatch):
    monkeypatch.setenv("MNIST_UPDATE_WEIGHTS", "1")
    tasks.main(["notebook"])
    (run, _), (tidy, _) = calls[1:]
    assert "--inplace" in run and "--output-dir" not in run and tidy[-1] == tasks.NOTEBOOK


def test_an_unknown_command_says_how_to_use_it(calls):
    with pytest.raises(SystemExit, match="usage: python tasks.py"):
        tasks.main(["deploy"])
    assert calls == []

