"""Pictures for the notebook: samples, curves, confusion, mistakes, probabilities, benchmarks."""
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay


def image_grid(images, titles, cols: int = 10, size: float = 1.1, title: str | None = None):
    """A grid of 28x28 images with a caption over each."""
    rows = (len(images) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size, rows * size * 1.25 + 0.4),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray")
            ax.set_title(titles[i], fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def class_balance(labels):
    """Bar chart of how many images each digit has."""
    fig, ax = plt.subplots(figsize=(7, 2.6))
    counts = np.bincount(np.asarray(labels), minlength=10)
    ax.bar(range(10), counts, color="tab:blue")
    ax.set(xticks=range(10), xlabel="digit", ylabel="images", title="class balance (train split)")
    for k, c in enumerate(counts):
        ax.text(k, c, f"{c:,}", ha="center", va="bottom", fontsize=7)
    return fig


def smoothing_floor(eps: float, classes: int = 10) -> float:
    """The least cross-entropy a model can reach against label-smoothed targets: their entropy."""
    hit, miss = 1 - eps + eps / classes, eps / classes
    return -(hit * math.log(hit) + (classes - 1) * miss * math.log(miss))


def log_labels(unit: str = ""):
    """Tick labels for a log axis: 1, 2, 3 and 5 times each power of ten, the rest unlabelled."""
    def label(v, _):
        lead = round(v / 10 ** math.floor(math.log10(v))) if v > 0 else 0
        return f"{v:g}{unit}" if lead in (1, 2, 3, 5) else ""
    return plt.FuncFormatter(label)


def plot_histories(histories: dict, smoothing: dict | None = None):
    """Loss (train dashed, validation solid) and validation error per epoch, per model; a
    dotted line marks the loss floor of each model trained with label smoothing."""
    fig, (ax_loss, ax_err) = plt.subplots(1, 2, figsize=(11, 3.8))
    for (name, h), color in zip(histories.items(), plt.cm.tab10.colors, strict=False):
        epochs = range(1, len(h.train_loss) + 1)
        ax_loss.plot(epochs, h.train_loss, "--", color=color, label=f"{name} train")
        ax_loss.plot(epochs, h.val_loss, "-", color=color, label=f"{name} validation")
        ax_err.plot(epochs, [100 - a for a in h.val_acc], "o-", color=color, label=name)
        if (smoothing or {}).get(name):
            floor = smoothing_floor(smoothing[name])
            ax_loss.axhline(floor, ls=":", color=color, label=f"{name}: floor {floor:.2f}")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy (log scale)", yscale="log",
                title="loss")
    ax_err.set(xlabel="epoch", ylabel="validation error, % (log scale)", yscale="log",
               title="validation error (100% - accuracy)")
    for axis, unit in ((ax_loss.yaxis, ""), (ax_err.yaxis, "%")):
        axis.set_major_formatter(log_labels(unit))
        axis.set_minor_formatter(log_labels(unit))
    ax_loss.legend(fontsize=7)
    ax_err.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_schedule(scheduler, cfg, steps_per_epoch: int):
    """The learning rate at every optimizer step of a recipe (it steps the scheduler)."""
    rates = []
    for _ in range(cfg.epochs * steps_per_epoch):
        rates.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.plot(np.arange(len(rates)) / steps_per_epoch, rates)
    ax.set(xlabel="epoch", ylabel="learning rate", title=f"{cfg.schedule} schedule of the "
           f"{cfg.model!r} recipe (peak {cfg.lr:g}, {cfg.epochs} epochs)")
    fig.tight_layout()
    return fig


def plot_confusion(confusion, title: str = "confusion matrix (test set)"):
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ConfusionMatrixDisplay(np.asarray(confusion), display_labels=range(10)).plot(
        ax=ax, colorbar=False, cmap="Blues")
    ax.set_title(title)
    return fig


def show_mistakes(images, labels, probs, n: int = 20, title: str | None = None):
    """The misclassified test digits the model was most sure about."""
    preds, conf = probs.argmax(1), probs.max(1).values
    wrong = (preds != labels).nonzero().flatten()
    shown = wrong[conf[wrong].argsort(descending=True)][:n]
    titles = [f"true {labels[i]}, pred {preds[i]}\n{100 * conf[i]:.0f}%" for i in shown]
    title = f"{title} ({len(shown)} of {len(wrong)}, most confident first)" if title else None
    return image_grid(images[shown], titles, cols=10, size=1.2, title=title)


def show_probabilities(image, probs, label=None, title: str | None = None):
    """One digit beside its ten predicted probabilities: the true digit green, a wrong
    prediction red, the others grey."""
    probs = np.asarray(probs)
    pred = int(np.argmax(probs))
    fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(7.5, 2.8), width_ratios=(1, 2.2))
    ax_img.imshow(np.asarray(image).reshape(28, 28), cmap="gray")
    ax_img.axis("off")
    ax_img.set_title("input" if label is None else f"true label {label}")
    colors = ["tab:gray"] * 10
    if label is not None and pred != label:
        colors[pred] = "tab:red"
    colors[pred if label is None else label] = "tab:green"
    ax_bar.bar(range(10), probs, color=colors)
    ax_bar.set(xticks=range(10), ylim=(0, 1), xlabel="digit", ylabel="probability",
               title=f"predicted {pred} ({100 * probs[pred]:.0f}%)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_benchmarks(rows):
    """Test error rate on a log axis (so 0.95%, 0.35% and 0.31% separate): published figures
    in grey, ours in orange, with ± std where there are several seeds."""
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(rows) + 1))
    names = [r["name"] for r in rows]
    errors = [100 - r["accuracy"] for r in rows]
    stds = [r.get("std", 0) for r in rows]
    colors = ["tab:orange" if r["ours"] else "tab:gray" for r in rows]
    ax.barh(names, errors, xerr=stds, color=colors)
    for y, (e, s) in enumerate(zip(errors, stds, strict=True)):
        ax.text((e + s) * 1.08, y, f"{e:.2f}%", va="center", fontsize=8)
    ax.set(xscale="log", xlim=(0.1, max(30, 3 * max(errors))),
           xlabel="test error, % (log scale; shorter is better)",
           title="MNIST test error: published (grey) and ours (orange)")
    ax.xaxis.set_major_formatter(log_labels("%"))
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def plot_ablation(study: dict):
    """Validation error and training time of each step, side by side."""
    steps = study["steps"]
    labels = [f"{s['step']}. {s['change']}" for s in steps]
    fig, (ax_err, ax_time) = plt.subplots(1, 2, figsize=(11, 0.5 * len(steps) + 1.4),
                                          sharey=True)
    ax_err.barh(labels, [100 - s["val_accuracy"] for s in steps], color="tab:orange",
                xerr=[s.get("val_std", 0) for s in steps])
    seeds = f"mean ± std over {len(study['seeds'])} seeds" if len(study["seeds"]) > 1 else "seed 0"
    ax_err.set(xlabel="validation error, % (shorter is better)",
               title=f"one change at a time ({seeds})")
    ax_time.barh(labels, [s["train_seconds"] for s in steps], color="tab:blue")
    ax_time.set(xlabel="training time, s (median)",
                title=f"on {study['machine']['cores']} CPU cores")
    ax_err.invert_yaxis()
    fig.tight_layout()
    return fig


def show_predictions(results):
    """Each image as given, beside its 28x28 preprocessed version and top-3 probabilities."""
    from .preprocess import load_image
    ok = [r for r in results if "error" not in r]
    if not ok:
        return None
    fig, axes = plt.subplots(len(ok), 3, figsize=(8, 2.1 * len(ok)), squeeze=False,
                             width_ratios=(1.3, 1, 1.6))
    for r, (ax_in, ax_28, ax_bar) in zip(ok, axes, strict=True):
        ax_in.imshow(load_image(r["file"]).convert("RGB"))
        ax_28.imshow(r["image"], cmap="gray")
        digits, probs = zip(*r["top3"], strict=True)
        ax_bar.barh([str(d) for d in digits][::-1], probs[::-1], color="tab:green")
        ax_bar.set(xlim=(0, 1), xlabel="probability (top 3)")
        ax_in.set_title(Path(r["file"]).name, fontsize=9)
        ax_28.set_title(f"28x28: read as {r['digit']}", fontsize=9)
        ax_in.axis("off")
        ax_28.axis("off")
    fig.tight_layout()
    return fig
