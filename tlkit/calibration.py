"""Uncertainty and calibration of a classifier: MC-dropout predictions (Gal & Ghahramani 2016), the expected
calibration error and reliability curve, and temperature scaling (Guo et al. 2017), fitted on validation logits."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .runtime import model_device


@torch.no_grad()
def mc_dropout_predict(model, x, n):
    """``n`` stochastic passes of ``model`` over ``x`` with only its dropout layers active: the mean softmax
    probabilities (N x C) and the predictive entropy of that mean in nats (N,), both on the CPU. Every module's
    train/eval mode is restored afterwards."""
    modes = {m: m.training for m in model.modules()}
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd):
            m.train()
    try:
        x = x.to(model_device(model))
        probs = torch.stack([model(x).float().softmax(dim=1) for _ in range(n)]).mean(dim=0).cpu()
    finally:
        for m, training in modes.items():
            m.training = training
    entropy = -(probs * torch.log(probs.clamp_min(1e-12))).sum(dim=1)
    return probs, entropy


def expected_calibration_error(probs, labels, n_bins=15):
    """ECE (Guo et al. 2017): the confidences (max probability) in ``n_bins`` equal-width bins over [0, 1] (the
    last bin includes 1), and the mean over bins of |accuracy - mean confidence| weighted by the bin's share of
    the samples."""
    probs = torch.as_tensor(np.asarray(probs), dtype=torch.float64)
    labels = torch.as_tensor(np.asarray(labels)).long()
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == labels).double()
    bins = torch.clamp((confidence * n_bins).long(), max=n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.double().mean().item() * abs(correct[in_bin].mean().item() - confidence[in_bin].mean().item())
    return ece


def fit_temperature(logits, labels):
    """The temperature T > 0 that minimises the negative log-likelihood of ``softmax(logits / T)`` on (held-out
    validation) ``labels``: one parameter, log T, fitted with L-BFGS (T = 1 is the model as it is)."""
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    labels = torch.as_tensor(np.asarray(labels)).long()
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=1.0, max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def reliability_curve(probs, labels, n_bins: int = 15) -> dict[str, np.ndarray]:
    """Per confidence bin (as in :func:`expected_calibration_error`): the bin edges, the mean confidence, the
    accuracy and the number of samples (NaN confidence/accuracy for empty bins), for a reliability diagram."""
    p = np.asarray(probs, dtype=np.float64)
    conf, hit = p.max(1), (p.argmax(1) == np.asarray(labels)).astype(np.float64)
    which = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        mean_conf = np.bincount(which, conf, n_bins) / count
        acc = np.bincount(which, hit, n_bins) / count
    return {"edges": np.linspace(0, 1, n_bins + 1), "confidence": mean_conf, "accuracy": acc, "count": count}
