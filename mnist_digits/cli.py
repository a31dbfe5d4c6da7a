"""Command line: python -m mnist_digits {train,evaluate,predict,serve,bench} ..."""
import argparse
import json
import os
import sys
from dataclasses import replace

from .checkpoints import DEFAULT_WEIGHTS, METRICS
from .errors import INTERRUPTED, MnistError, printable
from .hardware import PRECISIONS, describe, pick_device, resolve
from .reading import MAX_UPLOAD, READER_WEIGHTS
from .recipes import RECIPES, Config, recipe


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def bounded(cast, low, high, what: str):
    """An argparse type: cast(text) within [low, high], else 'expected {what}, got ...'."""
    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:  # NaN fails the comparison too
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return parse


seed_int = bounded(int, 0, 2**63 - 1, "a seed from 0 to 2**63-1")
probability = bounded(float, 0, 1, "a probability from 0 to 1")
port_number = bounded(int, 0, 65535, "a port from 0 to 65535")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mnist_digits", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model and save its checkpoint")
    t.add_argument("--model", choices=list(RECIPES), default=Config.model,
                   help="one of the notebook's recipes (default %(default)s)")
    t.add_argument("--epochs", type=positive_int, help="default: the model's recipe")
    t.add_argument("--seed", type=seed_int, default=Config.seed)
    t.add_argument("--out", help="checkpoint to write (default runs/MODEL-seedS.pth)")
    t.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    t.add_argument("--fast", action="store_true", help="2,000 images, 1 epoch: a smoke test")
    t.add_argument("--all-data", action="store_true", help="train on all 60,000 images, with no "
                   "validation split: a final model, once choices are made")
    e = sub.add_parser("evaluate", help="test accuracy, loss, per-class accuracy and calibration")
    e.add_argument("--weights", default=DEFAULT_WEIGHTS, metavar="FILE",
                   help="checkpoint to test (default %(default)s)")
    t.set_defaults(run=cmd_train)
    e.set_defaults(run=cmd_evaluate)
    t.add_argument("--precision", choices=PRECISIONS, default="auto", help="bf16 autocast or "
                   "fp32 (default auto: bf16 only where the hardware computes it natively)")
    for s in (t, e):
        s.add_argument("--data", default=Config.data_dir,
                       help="MNIST folder (default %(default)s/)")
        add_device(s)
        s.add_argument("--json", action="store_true", help="end with one JSON line of results")
    add_predict(sub)
    add_serve(sub)
    add_bench(sub)
    return p


def add_predict(sub) -> None:
    from .reading import predict
    p = sub.add_parser(
        "predict", help="read digits from your own images",
        description="Read the digit in each image: a photo or scan of any size, dark ink on "
        "light paper or the reverse, one digit per image.",
        epilog="Folders are read one level deep (image files by extension, sorted by name). "
        "Exit status: 0 if every image was read, 1 if any failed (the others are still "
        "predicted), 2 if the weights could not be loaded.")
    p.add_argument("inputs", nargs="+", metavar="IMAGE_OR_FOLDER",
                   help="image files, or folders of them")
    p.add_argument("--weights", default=READER_WEIGHTS, metavar="FILE",
                   help="checkpoint to use (default %(default)s)")
    p.add_argument("--json", action="store_true", help="one JSON object per line per image")
    p.add_argument("--threshold", type=probability, default=predict.THRESHOLD, metavar="P",
                   help="flag a prediction [uncertain] below this calibrated probability "
                   "(default %(default)s)")
    p.set_defaults(run=predict.run)


def add_serve(sub) -> None:
    p = sub.add_parser(
        "serve", help="a local web page: draw a digit or drop a photo, see the model read it",
        description="Serve a page where you draw a digit (mouse, pen or finger) or drop a "
        "photo, and see the 28x28 image the model reads and its ten probabilities.",
        epilog="Only this computer can open the page unless --host says otherwise (0.0.0.0: "
        f"every network the computer is on). Uploads over {MAX_UPLOAD // 2**20} MB are "
        "refused unread. Nothing is written to disk.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                   "127.0.0.1: this computer only)")
    p.add_argument("--port", type=port_number, default=8000, help="default 8000")
    p.add_argument("--weights", default=READER_WEIGHTS, metavar="FILE",
                   help="checkpoint to use (default %(default)s)")
    p.set_defaults(run=cmd_serve)


def add_bench(sub) -> None:
    from .bench import run as bench
    p = sub.add_parser("bench", help="benchmark recipes side by side")
    p.add_argument("--fast", action="store_true", help="2,000 images, 1 epoch each (CI)")
    p.add_argument("--seeds", type=seed_int, nargs="+", default=[0, 1, 2],
                   help="seeds for each of our recipes")
    p.add_argument("--data", default=Config.data_dir,
                   help="MNIST folder (default %(default)s/)")
    p.add_argument("--only", nargs="+", metavar="LABEL", choices=[r[0] for r in bench.RUNS],
                   help="run only these recipes, e.g. --only ours 'reference CNN'")
    p.add_argument("--max-epochs", type=int, default=0, help="cap the reference recipes' epochs")
    p.add_argument("--epochs", type=int, default=0,
                   help="train 'ours' for this many epochs, not its recipe's (a budget study)")
    p.add_argument("--out", help="folder for bench-DEVICE.{md,json} "
                   "(default results/, or runs/ with --fast or --epochs)")
    add_device(p)
    p.set_defaults(run=bench.run)


def add_device(p) -> None:
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto",
                   help="default auto: a CUDA GPU, else Apple's MPS, else the CPU")


def cmd_train(args) -> int:
    from .checkpoint_guards import check_writable
    from .checkpoints import make_meta
    from .data import load_splits
    from .lesson import calibrate, evaluate
    from .recipes import train_model
    cfg = recipe(args.model, fast=args.fast, seed=args.seed, data_dir=args.data,
                 precision=args.precision, **({"val_size": 0} if args.all_data else {}))
    cfg = replace(cfg, epochs=args.epochs) if args.epochs else cfg
    out = args.out or f"runs/{args.model}-seed{cfg.seed}.pth"
    check_writable(out, args.overwrite)  # say so now, not after training
    if cfg.init:  # a recipe that fine-tunes: its starting weights checked like any checkpoint
        check_start(cfg)
    device = pick_device(args.device)
    chosen = resolve(cfg, device)  # decided once, here; recorded in the checkpoint
    print(describe(cfg, device, chosen), flush=True)
    cfg = chosen
    data = load_splits(cfg).to(device)
    model, history = train_model(cfg, data)
    metrics, t = evaluate(model, data.test_x, data.test_y), calibrate(model, data)
    save_or_rescue(out, model, make_meta(history, data, metrics, t), args.overwrite)
    print(f"saved {out}")
    return report(cfg.model, metrics, out, args.json, {
        "precision": cfg.precision, "train_seconds": history.seconds[-1], "device": device.type,
        **calibration(metrics["logits"], data.test_y, t)})


def check_start(cfg) -> None:
    """The checkpoint a recipe starts from loads, and holds the recipe's architecture."""
    from .checkpoints import load_checkpoint
    model = load_checkpoint(cfg.init)[1]["model"]
    if model != cfg.model:
        raise MnistError(f"{cfg.init} holds a {model!r} model, but the recipe fine-tunes a "
                         f"{cfg.model!r} one. Train the {cfg.model!r} model first.")


def save_or_rescue(out, model, meta: dict, overwrite: bool) -> None:
    """save_checkpoint; should that fail after training, keep the weights in a rescue file."""
    from .checkpoints import rescue_checkpoint, save_checkpoint
    try:
        save_checkpoint(out, model, meta, overwrite)
    except (MnistError, OSError, RuntimeError) as e:
        problem = e if isinstance(e, MnistError) else f"could not write {out}: {e}."
        rescued = rescue_checkpoint(model, meta)
        kept = (f"The trained weights were saved to {rescued} instead: move that file where "
                f"you want it." if rescued else "No rescue copy could be written either (tried "
                "runs/, the temporary folder and the home folder): the trained model is lost.")
        raise MnistError(f"training finished, but {problem} {kept}") from None


def cmd_evaluate(args) -> int:
    from .checkpoints import load_checkpoint, normalization, temperature
    from .data import load_mnist, normalise
    from .lesson import evaluate
    device = pick_device(args.device)
    model, meta = load_checkpoint(args.weights)
    mean, std = normalization(meta, args.weights)
    t = temperature(meta, args.weights)
    images, labels = load_mnist(args.data, train=False)
    x = normalise(images, mean, std).to(device)
    metrics = evaluate(model.to(device), x, labels.to(device))
    return report(meta["model"], metrics, args.weights, args.json,
                  calibration(metrics["logits"], labels, t))


def calibration(logits, labels, t: float) -> dict:
    """Expected calibration error (%, 15 bins) with the temperature t and without one."""
    from .lesson import calibration_error
    labels = labels.cpu()
    return {"temperature": t,
            "calibration_error": 100 * calibration_error((logits / t).softmax(1), labels),
            "calibration_error_at_1": 100 * calibration_error(logits.softmax(1), labels)}


def cmd_serve(args) -> int:
    from .reading.serve import run  # starlette and uvicorn load only for this command
    return run(args)


def report(model: str, m: dict, weights, as_json: bool, extra: dict | None = None) -> int:
    print(f"model {model}: test accuracy {m['accuracy']:.2f}% ({m['correct']:,} / "
          f"{m['total']:,}), test loss {m['loss']:.4f}")
    per_class = "  ".join(f"{k}: {a:.2f}%" for k, a in enumerate(m["per_class"]))
    print(f"per-class accuracy: {per_class}")
    if "calibration_error" in (extra or {}):
        print(f"calibration error (ECE, 15 bins) {extra['calibration_error']:.2f}% with the "
              f"temperature {extra['temperature']:.3f} ({extra['calibration_error_at_1']:.2f}% "
              f"without it)")
    if as_json:
        print(json.dumps({"model": model, "weights": str(weights), **{k: m[k] for k in METRICS},
                          **(extra or {})}))
    return 0


def main(argv=None) -> int:
    try:
        args = parser().parse_args(argv)
        return args.run(args)
    except MnistError as e:
        print(f"error: {printable(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`, say, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
