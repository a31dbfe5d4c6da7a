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


def test_notebook_command_executes_in_place(calls, monkeypatch):
    monkeypatch.delenv("MNIST_LOCAL", raising=False)
    tasks.main(["notebook"])
    (run, _), (tidy, local) = calls[1:]
    assert run[:3] == ("-m", "jupyter", "nbconvert") and "--execute" in run
    assert "--inplace" in run and run[-1] == tasks.NOTEBOOK and local is None
    assert "--coalesce-streams" in tidy and "--execute" not in tidy


def test_an_unknown_command_says_how_to_use_it(calls):
    with pytest.raises(SystemExit, match="usage: python tasks.py"):
        tasks.main(["deploy"])
    assert calls == []

