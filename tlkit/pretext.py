"""Self-supervised pretext training by rotation prediction (Gidaris, Singh & Komodakis 2018, "Unsupervised
representation learning by predicting image rotations", ICLR): every unlabelled image is shown at 0, 90, 180 and
270 degrees and the network predicts which. The step functions train a :class:`tlkit.multitask.MultiHead` with
``fit``: the pretext alone, or jointly with a supervised task on labelled source images."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .models import pooled_features


def rotate_batch(x):
    """The 4 rotations of a batch of square images ``x`` (N x C x H x W, H == W), counter-clockwise by
    torch.rot90 over the last two dims, grouped by angle: all N images at 0 degrees, then all at 90, 180, 270.
    Returns (4N x C x H x W images, int64 labels 0, 1, 2, 3 = angle / 90 in that order)."""
    if x.ndim < 3 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"need a batch of square images (N x C x H x W, H == W), got {tuple(x.shape)}")
    rotated = torch.cat([torch.rot90(x, k, dims=(-2, -1)) for k in range(4)])
    labels = torch.arange(4, device=x.device).repeat_interleave(len(x))
    return rotated, labels


def rotation_step(model: nn.Module, batch: tuple, progress: float, rotate: Callable = rotate_batch,
                  head: str = "rotation"):
    """The pretext step for :func:`tlkit.train.fit` on unlabelled batches ``(x, ...)``: cross-entropy of the
    rotation head on ``rotate(x)``. ``model(x)`` is a 4-logit tensor, or a dict (a MultiHead) holding ``head``."""
    xr, yr = rotate(batch[0])
    out = model(xr)
    logits = out[head] if isinstance(out, dict) else out
    return F.cross_entropy(logits.float(), yr), logits, yr, {}


def source_and_rotation_step(model: nn.Module, batch: tuple, progress: float, rotate: Callable = rotate_batch,
                             weight: float = 1.0, task: str = "digit", head: str = "rotation"):
    """Supervised + pretext at once on ``tlkit.data.Paired`` batches (source x, source y, target x): the ``task``
    head's cross-entropy on the labelled source plus ``weight`` times the rotation head's on the rotated target
    (the two domains through the trunk in separate calls). Returns the task head's logits; metrics:
    ``rotation_loss``, ``rotation_acc``."""
    xs, ys, xt = batch[:3]
    xr, yr = rotate(xt)
    logits = model.heads[task](pooled_features(model, xs))
    rot = model.heads[head](pooled_features(model, xr))
    rotation_loss = F.cross_entropy(rot.float(), yr)
    loss = F.cross_entropy(logits.float(), ys) + weight * rotation_loss
    with torch.no_grad():
        metrics = {"rotation_loss": rotation_loss.detach(), "rotation_acc": (rot.argmax(1) == yr).float().mean()}
    return loss, logits, ys, metrics
