"""Accuracy, loss, per-class accuracy and the confusion matrix on held-out images."""
import torch
import torch.nn.functional as F
from sklearn.metrics import confusion_matrix


def uses_channels_last(model) -> bool:
    """True if the model's convolutions were put in channels-last (NHWC) memory format."""
    return any(p.dim() == 4 and not p.is_contiguous()
               and p.is_contiguous(memory_format=torch.channels_last) for p in model.parameters())


@torch.inference_mode()
def predict_logits(model, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Logits for every image, in eval mode (dropout off, batch norm frozen). Input follows
    the model's memory format, so the same kernels run as in training."""
    model.eval()
    channels_last = uses_channels_last(model)
    chunks = []
    for i in range(0, len(x), batch_size):
        xb = x[i: i + batch_size]
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        chunks.append(model(xb).float())
    return torch.cat(chunks)


def per_class_accuracy(labels, preds, num_classes: int = 10, cm=None) -> list[float]:
    """Percent correct within each true class (the diagonal of the row-normalised confusion)."""
    cm = confusion_matrix(labels, preds, labels=list(range(num_classes))) if cm is None else cm
    return [100.0 * float(cm[k, k]) / max(int(cm[k].sum()), 1) for k in range(num_classes)]


def summarize(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    """Every figure the notebook and `evaluate` report, in plain Python types."""
    preds = logits.argmax(1)
    labels_np, preds_np = labels.cpu().numpy(), preds.cpu().numpy()
    correct = int((preds == labels).sum())
    cm = confusion_matrix(labels_np, preds_np, labels=list(range(10)))
    return {
        "accuracy": 100.0 * correct / len(labels),
        "loss": F.cross_entropy(logits, labels).item(),
        "correct": correct,
        "total": len(labels),
        "per_class": per_class_accuracy(labels_np, preds_np, cm=cm),
        "confusion": cm.tolist(),
    }


def evaluate(model, x: torch.Tensor, y: torch.Tensor) -> dict:
    if len(y) == 0:  # no validation split (a final model trained on all 60k): nothing to judge
        return {"accuracy": float("nan"), "loss": float("nan"), "correct": 0, "total": 0,
                "per_class": [], "confusion": []}
    return summarize(predict_logits(model, x), y)
