"""A local web page to draw a digit (or drop a photo) and watch the model read it:
python -m mnist_digits serve [--host 127.0.0.1] [--port 8000] [--weights weights/reader.pth]

A small Starlette app: GET / is one static page (static/index.html), POST /predict takes the
raw bytes of one image and answers JSON. Images are read in memory; nothing is written. Safe to
leave running (serve_guards.py): same-origin requests only, a bounded queue, timeouts."""
import asyncio
import errno
import os
import socket
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ..checkpoints import temperature
from ..errors import MnistError
from . import MAX_UPLOAD
from .photo import prepare
from .predict import load_model, predict
from .serve_guards import Queue, SameOrigin, TimelyProtocol, busy, give_memory_back

WORKERS = 1  # images worked on at once: one thread (two contend for Python's GIL: slower)
QUEUE_BYTES = 64 * 2**20  # uploads waiting their turn hold at most this much ...
QUEUE_PLACES = 256  # ... and are at most this many; past either, 503 and Retry-After
BODY_SECONDS = 30  # an upload must arrive within this time
PAGE = Path(__file__).with_name("static") / "index.html"


def error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status)


def too_large(size: int) -> JSONResponse:
    return error(f"upload too large ({size / 2**20:.1f} MB): the limit is "
                 f"{MAX_UPLOAD // 2**20} MB. Resize or crop the picture first.", 413)


def declared_size(request: Request) -> int | None:
    length = request.headers.get("content-length", "")
    return int(length) if length.isdigit() else None  # a bad header: count as it arrives


async def read_capped(request: Request) -> bytes | int:
    """The body, or its size so far once it passes MAX_UPLOAD (the rest is not read)."""
    body = bytearray()
    async with asyncio.timeout(BODY_SECONDS):
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_UPLOAD:
                return len(body)
    return bytes(body)


def read_digit(model, meta: dict, body: bytes, name: str) -> dict:
    """One image's bytes -> digit, ten probabilities, the 28x28 input and the time taken."""
    start = time.perf_counter()
    digit = prepare(body, name)
    probs = predict(model, meta, digit[None])[0]
    return {"digit": int(probs.argmax()), "probabilities": [round(float(p), 5) for p in probs],
            "image": digit.round(3).tolist(), "ms": round(1000 * (time.perf_counter() - start), 1)}


def make_app(weights, host: str = "127.0.0.1") -> Starlette:
    """The app for one checkpoint, loaded once, answering at `host` (and localhost)."""
    model, meta = load_model(weights)
    queue = Queue(WORKERS, QUEUE_BYTES, QUEUE_PLACES)
    info = {"model": meta.get("model"), "weights": str(weights),
            "test_accuracy": (meta.get("metrics") or {}).get("accuracy"),
            "temperature": temperature(meta, weights),
            "max_upload_mb": MAX_UPLOAD // 2**20}

    async def page(request):
        return FileResponse(PAGE, headers={"Cache-Control": "no-store"})

    async def about(request):
        return JSONResponse(info)

    async def read(request):
        if request.headers.get("content-type", "").startswith("multipart/"):
            return error("send the image's bytes as the request body (curl --data-binary "
                         "@digit.png), not as a form (curl -F).", 415)
        size = declared_size(request)
        if size is not None and size > MAX_UPLOAD:
            return too_large(size)
        held = MAX_UPLOAD if size is None else size
        if not queue.admit(held):
            return busy()
        try:
            return await answer(request)
        finally:
            queue.leave(held)

    async def answer(request):
        try:
            body = await read_capped(request)
        except ClientDisconnect:  # the user went away: nothing to answer, nothing to log
            return Response(status_code=400)
        except TimeoutError:
            return error(f"the upload did not arrive within {BODY_SECONDS} s.", 408)
        if isinstance(body, int):
            return too_large(body)
        try:
            name = request.query_params.get("name") or "upload"
            return JSONResponse(await queue.run(read_digit, model, meta, body, name))
        except MnistError as e:
            return error(str(e), 400)

    return Starlette(routes=[Route("/", page), Route("/info", about),
                             Route("/predict", read, methods=["POST"])],
                     middleware=[Middleware(SameOrigin, bound=host)])


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or one MnistError saying why not (a busy port, an unknown host)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as e:
        raise MnistError(f"cannot listen on {host!r}: {e.strerror or e}. Pass --host with an "
                         f"address of this computer (default 127.0.0.1).") from None
    try:
        if os.name != "nt":  # restart on the same port at once (on Windows: would share it)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        fix = ("another program is using it: stop it, or pass --port with another number "
               "(--port 0 picks a free one)" if e.errno == errno.EADDRINUSE else e.strerror)
        raise MnistError(f"cannot listen on {host} port {port}: {fix}.") from None
    return sock


def url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = "localhost" if host in ("127.0.0.1", "::1") else f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"


def run(args) -> int:
    import torch
    import uvicorn
    torch.set_num_threads(1)  # one image at a time per worker: threads would only contend
    give_memory_back()
    app = make_app(args.weights, args.host)
    sock = bind(args.host, args.port)
    print(f"serving {args.weights} on {url(sock)} (Ctrl-C to stop)", flush=True)
    config = uvicorn.Config(app, log_level="warning", http=TimelyProtocol, timeout_keep_alive=5)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
