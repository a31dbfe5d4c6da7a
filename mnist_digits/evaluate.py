"""Accuracy, loss, per-class accuracy and the confusion matrix on held-out images."""
import torch
import torch.nn.functional as F
from sklearn.metrics import confusion_matrix


@torch.inference_mode()
def predict_logits(model, x: torch.Tensor, batch_size: int = 1000,
                   channels_last: bool = False) -> torch.Tensor:
    """Logits for every image, in eval mode (dropout off, batch norm frozen)."""
    model.eval()
    chunks = []
    for i in range(0, len(x), batch_size):
        xb = x[i: i + batch_size]
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        chunks.append(model(xb).float())
    return torch.cat(chunks)


def per_class_accuracy(labels, preds, num_classes: int = 10) -> list[float]:
    """Percent correct within each true class (the diagonal of the row-normalised confusion)."""
    cm = confusion_matrix(labels, preds, labels=list(range(num_classes)))
    return [100.0 * float(cm[k, k]) / max(int(cm[k].sum()), 1) for k in range(num_classes)]


def summarize(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    """Every figure the notebook and `evaluate` report, in plain Python types."""
    preds = logits.argmax(1)
    labels_np, preds_np = labels.cpu().numpy(), preds.cpu().numpy()
    correct = int((preds == labels).sum())
    return {
        "accuracy": 100.0 * correct / len(labels),
        "loss": F.cross_entropy(logits, labels).item(),
        "correct": correct,
        "total": len(labels),
        "per_class": per_class_accuracy(labels_np, preds_np),
        "confusion": confusion_matrix(labels_np, preds_np, labels=list(range(10))).tolist(),
    }


def evaluate(model, x: torch.Tensor, y: torch.Tensor, channels_last: bool = False) -> dict:
    return summarize(predict_logits(model, x, channels_last=channels_last), y)
