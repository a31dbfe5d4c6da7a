"""`python -m mnist_digits serve`: the app's answers and limits, its plumbing (how `run` starts
uvicorn, the guards' rules, the queue), and the page in a real browser."""
import asyncio
import json
import os
import shutil
import socket
import sys
import threading
import time
from types import SimpleNamespace

import pytest
import torch
import uvicorn
from conftest import ROOT
from helpers.serve_page import (
    answer,
    browser,
    browser_missing,
    draw,
    drawn_png,
    free_port,
    start_server,
)
from starlette.testclient import TestClient

from mnist_digits.checkpoints import save_checkpoint
from mnist_digits.cli import main
from mnist_digits.reading import READER_WEIGHTS, serve, serve_guards
from mnist_digits.reading.predict import load_model
from mnist_digits.recipes import build_model

READER = ROOT / READER_WEIGHTS  # the model serve uses by default; it reads a drawn 7


@pytest.fixture(scope="module")
def weights(tmp_path_factory):  # untrained: the app's plumbing, not its accuracy
    meta = {"model": "linear", "normalization": {"mean": 0.1307, "std": 0.3081}}
    return save_checkpoint(tmp_path_factory.mktemp("w") / "m.pth", build_model("linear"), meta)


@pytest.fixture  # built per test, so mutation testing sees which tests reach the app's code
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
    proc, seconds = start_server(str(READER), port)
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
    assert seconds < 30  # (the speed claim is tests/helpers/serve_page.py's)
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


@pytest.mark.enable_socket  # loopback only
def test_run_binds_first_then_starts_uvicorn_with_the_guards(weights, monkeypatch, capsys):
    started, calls = {}, []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: started.update(
        config=self.config, sockets=sockets))
    monkeypatch.setattr(serve, "give_memory_back", lambda: calls.append("memory"))
    threads = torch.get_num_threads()
    try:
        args = SimpleNamespace(weights=str(weights), host="127.0.0.1", port=0)
        assert serve.run(args) == 0
        assert torch.get_num_threads() == 1 and calls == ["memory"]
    finally:
        torch.set_num_threads(threads)
    config, (sock,) = started["config"], started["sockets"]
    port = sock.getsockname()[1]
    sock.close()
    assert capsys.readouterr().out == \
        f"serving {weights} on http://localhost:{port} (Ctrl-C to stop)\n"
    assert config.http is serve_guards.TimelyProtocol and config.timeout_keep_alive == 5
    assert config.log_level == "warning"
    page = TestClient(config.app, base_url=f"http://localhost:{port}")
    assert page.get("/").status_code == 200
    assert page.get("/", headers={"host": "evil.example"}).status_code == 403


@pytest.mark.enable_socket  # loopback only
def test_run_answers_at_the_host_it_was_given(weights, monkeypatch):
    started = {}
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: started.update(
        app=self.config.app, sockets=sockets))
    monkeypatch.setattr(serve, "give_memory_back", lambda: None)
    monkeypatch.setattr(serve, "bind", lambda host, port: socket.socket())
    monkeypatch.setattr(serve, "url", lambda sock: "http://myhost.lan:8000")
    threads = torch.get_num_threads()
    try:
        serve.run(SimpleNamespace(weights=str(weights), host="myhost.lan", port=8000))
    finally:
        torch.set_num_threads(threads)
    started["sockets"][0].close()
    page = TestClient(started["app"], base_url="http://myhost.lan:8000")
    assert page.get("/").status_code == 200


@pytest.mark.enable_socket  # loopback only
def test_url_names_the_bound_address():
    for host, shown in [("127.0.0.1", "localhost"), ("0.0.0.0", "0.0.0.0")]:
        with socket.socket() as s:
            s.bind((host, 0))
            assert serve.url(s) == f"http://{shown}:{s.getsockname()[1]}"
    if socket.has_ipv6:
        for host, shown in [("::1", "localhost"), ("::", "[::]")]:
            try:
                s = socket.socket(socket.AF_INET6)
                s.bind((host, 0))
            except OSError:  # no IPv6 loopback here
                continue
            with s:
                assert serve.url(s) == f"http://{shown}:{s.getsockname()[1]}"


@pytest.mark.enable_socket  # loopback only
def test_bind_refuses_an_unknown_host_in_one_line():
    with pytest.raises(serve.MnistError, match=r"cannot listen on 'no such host\.invalid'"):
        serve.bind("no such host.invalid", 0)


def test_read_digit_rounds_and_times_its_answer(weights, monkeypatch):
    model, meta = load_model(weights)
    ticks = iter([100.0, 100.0123])
    monkeypatch.setattr(serve.time, "perf_counter", lambda: next(ticks))
    a = serve.read_digit(model, meta, drawn_png(), "d.png")
    assert a["ms"] == 12.3 and a["digit"] == max(range(10), key=a["probabilities"].__getitem__)
    assert all(p == round(p, 5) for p in a["probabilities"])
    assert any(p != round(p, 4) for p in a["probabilities"])  # five decimals, not fewer
    flat = [v for row in a["image"] for v in row]
    assert all(abs(v - round(v, 3)) < 1e-6 for v in flat)  # (float32 values)
    assert any(abs(v - round(v, 2)) > 1e-6 for v in flat)


def test_refusals_say_what_and_how_much():
    r = serve.too_large(int(1.5 * 2**20))
    assert r.status_code == 413 and json.loads(r.body) == {"error": "upload too large (1.5 MB): "
                                                           "the limit is 10 MB. Resize or crop "
                                                           "the picture first."}
    b = serve_guards.busy()
    assert b.status_code == 503 and b.headers["retry-after"] == "1"
    assert json.loads(b.body) == {"error": "the server is busy: try again in a moment."}


def test_a_declared_size_over_the_limit_is_refused_unread(weights):
    async def receive():
        pytest.fail("the body was read")
    sent = []

    async def send(message):
        sent.append(message)
    scope = {"type": "http", "method": "POST", "path": "/predict", "query_string": b"",
             "headers": [(b"host", b"localhost"), (b"content-length", b"999999999")],
             "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5),
             "root_path": "", "http_version": "1.1", "raw_path": b"/predict"}
    asyncio.run(serve.make_app(weights)(scope, receive, send))
    assert sent[0]["status"] == 413 and b"953.7 MB" in sent[1]["body"]


def test_an_upload_of_exactly_the_limit_is_read(weights, monkeypatch):
    monkeypatch.setattr(serve, "MAX_UPLOAD", 1000)
    page = TestClient(serve.make_app(weights), base_url="http://localhost")
    exact = page.post("/predict", content=(b"\0" * 500 for _ in range(2)))  # no length
    assert exact.status_code == 400 and "not an image" in exact.json()["error"]
    declared = page.post("/predict", content=b"\0" * 1000)  # Content-Length: 1000
    assert declared.status_code == 400 and "not an image" in declared.json()["error"]
    over = page.post("/predict", content=(b"\0" * 501 for _ in range(2)))
    assert over.status_code == 413


def test_the_queue_works_in_its_own_threads_and_counts_back():
    q = serve_guards.Queue(workers=1, budget=10, places=3)
    assert q.admit(4) and q.admit(4) and (q.held, q.waiting) == (8, 2)
    q.leave(4)
    assert (q.held, q.waiting) == (4, 1)
    name = asyncio.run(q.run(lambda: threading.current_thread().name))
    assert name.startswith("digit")


@pytest.mark.parametrize("text, ip", [("127.0.0.1", True), ("::1", True),
                                      ("localhost", False), ("example.com", False), ("", False)])
def test_is_ip(text, ip):
    assert serve_guards.is_ip(text) is ip


def test_freed_memory_is_given_back_on_linux_only(monkeypatch):
    calls = []

    class Libc:
        def __init__(self, name):
            calls.append(name)

        def mallopt(self, *args):
            calls.append(args)
    monkeypatch.setattr(serve_guards.ctypes, "CDLL", Libc)
    monkeypatch.setattr(sys, "platform", "linux")
    serve_guards.give_memory_back()
    assert calls == ["libc.so.6", (-3, 4 * 2**20)]  # M_MMAP_THRESHOLD, 4 MB
    monkeypatch.setattr(sys, "platform", "darwin")
    serve_guards.give_memory_back()
    assert len(calls) == 2

    def missing(name):
        raise OSError("no libc.so.6")
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(serve_guards.ctypes, "CDLL", missing)
    serve_guards.give_memory_back()  # musl: nothing to do, no error


@pytest.mark.parametrize("host, name", [
    ("localhost:8000", "localhost"), ("localhost", "localhost"), ("[::1]:8000", "::1"),
    ("[::1]", "::1"), ("[::1", ""), ("::1", "::1"), ("a:b:c", "a:b:c"), ("x:1:2", "x:1:2"),
    ("[fe80::1]:80]", "fe80::1"),
])
def test_host_name_parses_host_headers(host, name):
    assert serve_guards.host_name(host) == name


def test_allowed_hosts(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "MyBox")
    loopback = {"localhost", "127.0.0.1", "::1"}
    assert serve_guards.allowed_hosts("127.0.0.1") == (loopback, False)
    assert serve_guards.allowed_hosts("[::1]") == (loopback, False)
    assert serve_guards.allowed_hosts("Pi.Lan") == (loopback | {"pi.lan"}, False)
    for wildcard in ("0.0.0.0", "::", ""):
        names, any_ip = serve_guards.allowed_hosts(wildcard)
        assert any_ip and names >= loopback | {"mybox", "mybox.local"}


@pytest.mark.parametrize("method, headers, refused", [
    ("GET", {"origin": "http://evil.example"}, False),  # reading the page: the browser's CORS
    ("HEAD", {"sec-fetch-site": "cross-site"}, False),
    ("POST", {}, False),  # curl, scripts: no Origin
    ("POST", {"sec-fetch-site": "none"}, False),  # typed by the user
    ("POST", {"sec-fetch-site": "same-origin", "origin": "http://localhost:8000"}, False),
    ("PUT", {"origin": "http://evil.example"}, True),
    ("DELETE", {"sec-fetch-site": "cross-site"}, True),
])
def test_same_origin_rule(method, headers, refused):
    guard = serve_guards.SameOrigin(None, "127.0.0.1")
    raw = [(b"host", b"localhost:8000")] + [(k.encode(), v.encode()) for k, v in headers.items()]
    why = guard.refusal({"type": "http", "method": method, "headers": raw})
    assert (why == "refused: requests from other websites are not accepted.") is refused
    assert refused or why is None


def test_no_host_header_is_refused():
    guard = serve_guards.SameOrigin(None, "127.0.0.1")
    why = guard.refusal({"type": "http", "method": "GET", "headers": []})
    assert why.startswith("refused: this page answers only at the address it was started on, "
                          "not ''")


def test_other_scopes_pass_through():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])
    guard = serve_guards.SameOrigin(app, "127.0.0.1")
    asyncio.run(guard({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"]


@pytest.mark.enable_socket  # loopback only
def test_a_slow_body_is_the_apps_business_not_the_header_clock(weights, monkeypatch):
    """Headers sent in time: the header clock stops, so a body that takes longer than
    HEADER_SECONDS still gets its answer; the next request on the connection gets a new clock."""
    from test_serve_hostile import serve_in_thread
    server, port = serve_in_thread(weights, monkeypatch, header_seconds=0.3)
    body = drawn_png()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(f"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
                      f"{len(body)}\r\n\r\n".encode())
            time.sleep(0.8)
            s.sendall(body)
            assert s.recv(100).startswith(b"HTTP/1.1 200")
            s.recv(65536)
            s.sendall(b"GET /info HTTP/1.1\r\nHo")  # the next request stalls in its headers
            start = time.perf_counter()
            while s.recv(65536):
                pass  # (the rest of the first answer), then closed by the server
            assert time.perf_counter() - start < 3
    finally:
        server.should_exit = True


def test_info_and_page_headers(tmp_path):
    meta = {"model": "linear", "normalization": {"mean": 0.1307, "std": 0.3081},
            "metrics": {"accuracy": 91.5}, "temperature": 0.75}
    path = save_checkpoint(tmp_path / "m.pth", build_model("linear"), meta)
    page = TestClient(serve.make_app(path), base_url="http://localhost")
    assert page.get("/info").json() == {"model": "linear", "weights": str(path),
                                        "test_accuracy": 91.5, "temperature": 0.75,
                                        "max_upload_mb": 10}
    assert page.get("/").headers["cache-control"] == "no-store"  # a new page after an update


def test_a_form_upload_gets_the_exact_fix(client):
    r = client.post("/predict", content=b"--x\r\n", headers={
        "content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 415 and r.json() == {"error": "send the image's bytes as the "
                                                 "request body (curl --data-binary @digit.png), "
                                                 "not as a form (curl -F)."}


def test_the_name_in_the_query_names_the_upload(client):
    r = client.post("/predict?name=mine.png", content=b"not an image")
    assert r.json()["error"].startswith("mine.png: ")
    assert client.post("/predict", content=b"").json()["error"].startswith("upload: ")


@pytest.mark.enable_socket  # loopback only
def test_bind_says_why_it_cannot_listen():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(serve.MnistError) as e:
            serve.bind("127.0.0.1", port)
    assert str(e.value) == (f"cannot listen on 127.0.0.1 port {port}: another program is using "
                            f"it: stop it, or pass --port with another number (--port 0 picks a "
                            f"free one).")
    with pytest.raises(serve.MnistError, match=r"port 80: Permission denied\.$|"
                                               r"port 80: Cannot assign requested address\.$"):
        serve.bind("192.0.2.1", 80)  # TEST-NET-1: never this computer's address
