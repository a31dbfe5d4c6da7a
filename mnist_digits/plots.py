"""Pictures for the notebook: samples, curves, confusion, mistakes, probabilities, benchmarks."""
import inspect
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay


def show_source(*objects) -> None:
    """Display the package's own code in the notebook: one copy of every line."""
    from IPython.display import Markdown, display
    for obj in objects:
        display(Markdown(f"```python\n{inspect.getsource(obj).rstrip()}\n```"))


def image_grid(images, titles, cols: int = 10, size: float = 1.1, colors=None):
    """A grid of 28x28 images with a title under each."""
    rows = (len(images) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size, rows * size * 1.25), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray")
            ax.set_title(titles[i], fontsize=8, color=colors[i] if colors else "black")
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


def plot_histories(histories: dict):
    """Loss (train and validation) and validation accuracy per epoch, one line per model."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.6))
    for (name, h), color in zip(histories.items(), plt.cm.tab10.colors, strict=False):
        epochs = range(1, len(h.train_loss) + 1)
        ax_loss.plot(epochs, h.train_loss, "--", color=color, label=f"{name} train")
        ax_loss.plot(epochs, h.val_loss, "-", color=color, label=f"{name} validation")
        ax_acc.plot(epochs, h.val_acc, "o-", color=color, label=name)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy (%)", title="accuracy", ylim=(96, 100))
    ax_loss.legend(fontsize=7)
    ax_acc.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_confusion(confusion, title: str = "confusion matrix (test set)"):
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ConfusionMatrixDisplay(np.asarray(confusion), display_labels=range(10)).plot(
        ax=ax, colorbar=False, cmap="Blues")
    ax.set_title(title)
    return fig


def show_mistakes(images, labels, probs, n: int = 20):
    """The misclassified test digits the model was most sure about."""
    preds, conf = probs.argmax(1), probs.max(1).values
    wrong = (preds != labels).nonzero().flatten()
    wrong = wrong[conf[wrong].argsort(descending=True)][:n]
    titles = [f"true {labels[i]}, pred {preds[i]}\n{100 * conf[i]:.0f}%" for i in wrong]
    return image_grid(images[wrong], titles, cols=10, size=1.2)


def show_probabilities(image, probs, label=None):
    """One digit beside a bar chart of its ten predicted probabilities."""
    fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(7, 2.6), width_ratios=(1, 2.2))
    ax_img.imshow(np.asarray(image).reshape(28, 28), cmap="gray")
    ax_img.axis("off")
    ax_img.set_title("input" if label is None else f"true label {label}")
    bars = ax_bar.bar(range(10), np.asarray(probs), color="tab:gray")
    bars[int(np.argmax(probs))].set_color("tab:green")
    ax_bar.set(xticks=range(10), ylim=(0, 1), xlabel="digit", ylabel="probability")
    fig.tight_layout()
    return fig


def plot_benchmarks(rows):
    """Horizontal bars of test accuracy: published figures in grey, ours in colour."""
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(rows) + 0.8))
    names = [r["name"] for r in rows]
    accs = [r["accuracy"] for r in rows]
    colors = ["tab:orange" if r["ours"] else "tab:gray" for r in rows]
    ax.barh(names, accs, xerr=[r.get("std", 0) for r in rows], color=colors)
    for y, a in enumerate(accs):
        ax.text(a + 0.05, y, f"{a:.2f}%", va="center", fontsize=8)
    ax.set(xlim=(87, 100.6), xlabel="test accuracy (%)", title="MNIST test accuracy")
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def per_class_table(results: dict):
    """Markdown table: accuracy per digit (rows) for each model (columns)."""
    from IPython.display import Markdown
    names = list(results)
    lines = ["| digit | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for k in range(10):
        cells = " | ".join(f"{results[n]['per_class'][k]:.2f}%" for n in names)
        lines.append(f"| {k} | {cells} |")
    cells = " | ".join(f"**{results[n]['accuracy']:.2f}%**" for n in names)
    lines.append(f"| **all** | {cells} |")
    return Markdown("\n".join(lines))


def benchmark_table(rows) -> str:
    """Markdown table of test accuracy and error rate, best last."""
    lines = ["| model | test accuracy | error rate |", "|---|---|---|"]
    for r in rows:
        std = f" ± {r['std']:.2f}" if r.get("std") else ""
        name = f"**{r['name']}**" if r["ours"] else r["name"]
        lines.append(f"| {name} | {r['accuracy']:.2f}%{std} | {100 - r['accuracy']:.2f}% |")
    return "\n".join(lines)


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
