"""`python -m mnist_digits serve`: the app's answers, its limits, and the page in a real browser."""
import os
import shutil

import pytest
from conftest import ROOT
from starlette.testclient import TestClient

from benchmarks.serve_page import (
    answer,
    browser,
    browser_missing,
    draw,
    drawn_png,
    free_port,
    start_server,
)
from mnist_digits import serve
from mnist_digits.checkpoints import save_checkpoint
from mnist_digits.cli import main
from mnist_digits.models import build_model

BEST = ROOT / "weights/best.pth"  # the committed model, which reads a drawn 7


@pytest.fixture(scope="module")
def weights(tmp_path_factory):  # untrained: the app's plumbing, not its accuracy
    meta = {"model": "linear", "normalization": {"mean": 0.1307, "std": 0.3081}}
    return save_checkpoint(tmp_path_factory.mktemp("w") / "m.pth", build_model("linear"), meta)


@pytest.fixture(scope="module")
def client(weights):
    return TestClient(serve.make_app(weights), base_url="http://localhost")


def test_page_and_info(client, weights):
    page = client.get("/")
    assert page.status_code == 200 and '<canvas id="pad"' in page.text
    info = client.get("/info").json()
    assert info["model"] == "linear" and info["weights"] == str(weights)
    assert info["max_upload_mb"] == serve.MAX_UPLOAD // 2**20


def test_a_drawing_is_read_in_memory(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = client.post("/predict?name=drawing.png", content=drawn_png())
    a = r.json()
    assert r.status_code == 200 and a["digit"] in range(10)
    assert len(a["probabilities"]) == 10 and sum(a["probabilities"]) == pytest.approx(1, abs=1e-3)
    assert a["digit"] == max(range(10), key=a["probabilities"].__getitem__)
    assert len(a["image"]) == 28 and all(len(row) == 28 for row in a["image"])
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("body, status, message", [
    (b"not an image", 400, "bad.png: not an image this program reads"),
    (b"", 400, "bad.png: the file is empty"),
    (drawn_png([]), 400, "bad.png: no digit found"),
])
def test_bad_uploads_get_the_loaders_message(client, body, status, message):
    r = client.post("/predict?name=bad.png", content=body)
    assert r.status_code == status and r.json()["error"].startswith(message)


def test_uploads_over_the_limit_are_refused_unread(client, monkeypatch):
    monkeypatch.setattr(serve, "MAX_UPLOAD", 1000)
    r = client.post("/predict", content=drawn_png() + b"\0" * 1000)
    assert r.status_code == 413 and "the limit is" in r.json()["error"]
    chunks = (b"\0" * 600 for _ in range(3))  # no Content-Length: counted as it arrives
    r = client.post("/predict", content=chunks)
    assert r.status_code == 413


def test_serve_refuses_bad_weights_and_ports(tmp_path, capsys):
    assert main(["serve", "--weights", str(tmp_path / "none.pth")]) == 2
    assert "none.pth" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["serve", "--port", "70000"])
    assert "expected a port from 0 to 65535" in capsys.readouterr().err


def need_browser() -> None:
    """No Chromium: skipped on a user's machine, with the reason; a failure in CI."""
    why = browser_missing()
    if why and os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test: {why}", pytrace=False)
    if why:
        pytest.skip(why)


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception),
                                         ("", pytest.skip.Exception)])
def test_no_browser_fails_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(BaseException, match="chromium and chromedriver not found") as e:
        need_browser()
    assert e.type is outcome


@pytest.fixture(scope="module")
def page():
    """The real command on a free port, and headless Chromium on its page."""
    need_browser()
    port = free_port()
    proc, seconds = start_server(str(BEST), port)
    driver = browser()
    driver.get(f"http://127.0.0.1:{port}/")
    yield driver, seconds
    driver.quit()
    proc.terminate()
    proc.wait()


@pytest.mark.browser
@pytest.mark.enable_socket  # the browser, on this computer only
def test_drawing_on_the_page_shows_the_digit_and_bars(page):
    driver, seconds = page
    assert seconds < 30  # (the speed claim is benchmarks/serve_page.py's)
    draw(driver)  # a 7, stroke by stroke, with pointer events
    digit, bars = answer(driver)
    assert digit == "7" and max(bars) == bars[7] and sum(bars) == pytest.approx(1, abs=1e-3)
    fill, track = (driver.find_element("css selector", f"#bar-7 {c}") for c in (".fill", ".track"))
    assert fill.size["width"] == pytest.approx(bars[7] * track.size["width"], abs=2)  # drawn
    assert "test accuracy" in driver.find_element("id", "footer").text


@pytest.mark.browser
@pytest.mark.enable_socket
def test_dropping_a_bad_file_shows_the_message(page):
    driver, _ = page
    driver.execute_script("""
        const data = new DataTransfer();
        data.items.add(new File(["hello"], "notes.png", {type: "image/png"}));
        document.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));""")
    from selenium.webdriver.support.ui import WebDriverWait
    box = driver.find_element("id", "error")
    WebDriverWait(driver, 10).until(lambda d: box.is_displayed())
    assert box.text.startswith("notes.png: not an image this program reads")
