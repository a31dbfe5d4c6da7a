"""CI cannot turn green by skipping: the end-to-end tests fail there without MNIST."""
from types import SimpleNamespace

import conftest
import pytest


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception),
                                         ("", pytest.skip.Exception)])
def test_missing_mnist_fails_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    """The end-to-end tests' guard (conftest): CI cannot turn green by skipping them."""
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(conftest, "mnist_available", lambda: False)
    item = SimpleNamespace(get_closest_marker=lambda name: name == "needs_mnist" or None)
    with pytest.raises(BaseException, match="MNIST not available") as e:  # skips too
        conftest.pytest_runtest_setup(item)
    assert e.type is outcome
    assert conftest.pytest_runtest_setup(SimpleNamespace(get_closest_marker=lambda n: None)) \
        is None  # other tests run as usual
