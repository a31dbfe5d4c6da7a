"""A local web page to draw a digit (or drop a photo) and watch the model read it:
python -m mnist_digits serve [--host 127.0.0.1] [--port 8000] [--weights weights/best.pth]

A small Starlette app: GET / is one static page (static/index.html), POST /predict takes the
raw bytes of one image and answers JSON. Images are read in memory; nothing is written."""
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route

from .errors import MnistError
from .predict import load_model, predict
from .preprocess import prepare

MAX_UPLOAD = 10 * 2**20  # bytes; larger uploads are refused before they are read
PAGE = Path(__file__).with_name("static") / "index.html"


def too_large(size: int) -> JSONResponse:
    return JSONResponse({"error": f"upload too large ({size / 2**20:.1f} MB): the limit is "
                         f"{MAX_UPLOAD // 2**20} MB. Resize or crop the picture first."}, 413)


async def read_capped(request: Request) -> bytes | int:
    """The body, or its size so far once it passes MAX_UPLOAD (the rest is not read)."""
    length = request.headers.get("content-length", "")
    declared = int(length) if length.isdigit() else 0  # a bad header: count as it arrives
    if declared > MAX_UPLOAD:
        return declared
    body = bytearray()
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


def make_app(weights) -> Starlette:
    """The app for one checkpoint, loaded once."""
    model, meta = load_model(weights)
    info = {"model": meta.get("model"), "weights": str(weights),
            "test_accuracy": (meta.get("metrics") or {}).get("accuracy"),
            "max_upload_mb": MAX_UPLOAD // 2**20}

    async def page(request):
        return FileResponse(PAGE, headers={"Cache-Control": "no-store"})

    async def about(request):
        return JSONResponse(info)

    async def read(request):
        body = await read_capped(request)
        if isinstance(body, int):
            return too_large(body)
        try:
            answer = await run_in_threadpool(
                read_digit, model, meta, body, request.query_params.get("name") or "upload")
        except MnistError as e:
            return JSONResponse({"error": str(e)}, 400)
        return JSONResponse(answer)

    return Starlette(routes=[Route("/", page), Route("/info", about),
                             Route("/predict", read, methods=["POST"])])


def run(args) -> int:
    import uvicorn
    app = make_app(args.weights)
    where = f"http://{'localhost' if args.host == '127.0.0.1' else args.host}:{args.port}"
    print(f"serving {args.weights} on {where} (Ctrl-C to stop)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
