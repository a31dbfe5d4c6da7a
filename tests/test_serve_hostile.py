"""The page against other websites, abusive connections and load: same-origin only, refused
before the body is read; a bounded queue; timeouts; quiet disconnects; honest start-up."""
import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import ROOT
from helpers.serve_page import drawn_png
from starlette.testclient import TestClient

from mnist_digits.checkpoints import save_checkpoint
from mnist_digits.cli import main, parser
from mnist_digits.reading import serve
from mnist_digits.reading import serve_guards as guards
from mnist_digits.recipes import build_model

pytestmark = pytest.mark.enable_socket  # servers on this computer's loopback only


@pytest.fixture(scope="module")
def weights(tmp_path_factory):  # untrained: the app's plumbing, not its accuracy
    meta = {"model": "linear", "normalization": {"mean": 0.1307, "std": 0.3081}}
    return save_checkpoint(tmp_path_factory.mktemp("w") / "m.pth", build_model("linear"), meta)


def client(weights, host="127.0.0.1", base="http://localhost:8000"):
    return TestClient(serve.make_app(weights, host), base_url=base)


class Body:
    """A request body that records whether the server read it."""
    read = False

    def __iter__(self):
        Body.read = True
        yield drawn_png()


@pytest.mark.parametrize("headers", [
    {"origin": "http://evil.example"},
    {"origin": "null"},
    {"origin": "http://localhost:9999"},  # another port is another origin
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},
    {"origin": "http://evil.example", "content-type": "text/plain"},  # no preflight needed
])
def test_posts_from_other_websites_are_refused_before_the_body_is_read(weights, headers):
    Body.read = False
    r = client(weights).post("/predict", content=Body(), headers=headers)
    assert r.status_code == 403 and "other websites" in r.json()["error"]
    assert not Body.read


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "localhost.evil.example",
                                  "192.168.1.10:8000", ""])
def test_a_host_that_is_not_this_server_is_refused(weights, host):
    """DNS rebinding: another site's name pointed at 127.0.0.1 arrives with its own Host."""
    c = client(weights)
    for method in (c.get, c.post):
        r = method("/" if method == c.get else "/predict", headers={"host": host})
        assert r.status_code == 403 and "only at the address it was started on" in r.text


@pytest.mark.parametrize("bound, base", [
    ("127.0.0.1", "http://localhost:8000"), ("127.0.0.1", "http://127.0.0.1:8000"),
    ("127.0.0.1", "http://[::1]:8000"), ("10.1.2.3", "http://10.1.2.3:8000"),
    ("myhost.lan", "http://myhost.lan:8000"), ("0.0.0.0", "http://192.168.1.10:8000"),
])
def test_the_page_works_at_its_own_addresses(weights, bound, base):
    c = client(weights, bound, base)
    assert c.get("/").status_code == 200
    origin = {"origin": base, "sec-fetch-site": "same-origin"}  # what a browser sends
    r = c.post("/predict?name=drawing.png", content=drawn_png(), headers=origin)
    assert r.status_code == 200 and r.json()["digit"] in range(10)


def test_a_full_queue_answers_503_with_retry_after(weights, monkeypatch):
    monkeypatch.setattr(serve, "QUEUE_PLACES", 0)
    r = client(weights).post("/predict", content=drawn_png())
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    monkeypatch.setattr(serve, "QUEUE_PLACES", 4)
    monkeypatch.setattr(serve, "QUEUE_BYTES", 100)  # a body larger than the room left
    assert client(weights).post("/predict", content=drawn_png()).status_code == 503


def test_a_form_upload_is_told_how_to_send_the_image(weights):
    Body.read = False
    r = client(weights).post("/predict", content=Body(),
                             headers={"content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 415 and "--data-binary" in r.json()["error"] and not Body.read


def test_the_queue_counts_what_it_holds():
    q = guards.Queue(workers=1, budget=10, places=2)
    assert q.admit(6) and not q.admit(6) and q.admit(4) and not q.admit(0)
    q.leave(6)
    assert q.admit(6)


def asgi(app, receive, method="POST", path="/predict"):
    """Call the ASGI app directly: (status, body) of what it sent."""
    sent = []

    async def send(message):
        sent.append(message)
    scope = {"type": "http", "method": method, "path": path, "query_string": b"",
             "headers": [(b"host", b"localhost:8000")], "scheme": "http",
             "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000), "root_path": "",
             "http_version": "1.1", "raw_path": path.encode()}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))  # a hang fails the test
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_a_client_that_goes_away_mid_upload_is_not_an_error(weights, caplog):
    messages = iter([{"type": "http.request", "body": b"\x89PNG", "more_body": True},
                     {"type": "http.disconnect"}])

    async def receive():
        return next(messages)
    status, _ = asgi(serve.make_app(weights), receive)
    assert status == 400 and not caplog.records  # nothing logged, no traceback


def test_an_upload_that_stalls_times_out(weights, monkeypatch):
    monkeypatch.setattr(serve, "BODY_SECONDS", 0.2)

    async def receive():  # sends part of its body, then nothing
        await asyncio.sleep(0 if not hasattr(receive, "once") else 30)
        receive.once = True
        return {"type": "http.request", "body": b"\x89PNG", "more_body": True}
    start = time.perf_counter()
    status, body = asgi(serve.make_app(weights), receive)
    assert status == 408 and "did not arrive" in json.loads(body)["error"]
    assert time.perf_counter() - start < 5


def serve_in_thread(weights, monkeypatch, header_seconds=0.5):
    """The real uvicorn server with the TimelyProtocol, in a thread; its port."""
    import uvicorn
    monkeypatch.setattr(guards, "HEADER_SECONDS", header_seconds)
    sock = serve.bind("127.0.0.1", 0)
    config = uvicorn.Config(serve.make_app(weights), log_level="warning",
                            http=guards.TimelyProtocol)
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, sock.getsockname()[1]


@pytest.mark.parametrize("sent", [b"", b"POST /predict HTTP/1.1\r\nHost: local"])
def test_connections_that_do_not_send_their_headers_are_closed(weights, monkeypatch, sent):
    server, port = serve_in_thread(weights, monkeypatch)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(sent)
            start = time.perf_counter()
            assert s.recv(100) == b""  # closed by the server, not by our timeout
            assert time.perf_counter() - start < 5
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:  # still serving
            s.sendall(b"GET /info HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True


def test_the_default_host_is_this_computer_only():
    assert parser().parse_args(["serve"]).host == "127.0.0.1"


def test_a_busy_port_is_one_error_line_with_the_fix(weights, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--weights", str(weights)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and f"port {port}" in err[0] and "--port 0" in err[0]


def ctrl_c_works():
    """In the child: Ctrl-C's default action, even when these tests run in the background
    (a shell's background job, or mutmut's workers, inherits SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_serving_is_announced_once_bound_with_the_real_port(weights):
    proc = subprocess.Popen([sys.executable, "-m", "mnist_digits", "serve", "--port", "0",
                             "--weights", str(weights)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_works if sys.platform != "win32" else None)
    try:
        line = proc.stdout.readline()
        port = int(line.split("http://localhost:")[1].split()[0])
        assert port != 0
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /info HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 200")
        proc.send_signal(2)  # Ctrl-C
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130 and err == \
            "interrupted (Ctrl-C): stopped, nothing half-written\n"
    finally:
        proc.kill()
