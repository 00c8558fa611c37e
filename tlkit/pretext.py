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
    Returns (4N x C x H x W images, int64 labels 0, 1, 2, 3 = angle / 90 in that order): what :func:`rotation_step`
    trains on, for scoring the pretext (``tlkit.train.score(model.head("rotation"), *rotate_batch(x))``)."""
    if x.ndim < 3 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"need a batch of square images (N x C x H x W, H == W), got {tuple(x.shape)}")
    rotated = torch.cat([torch.rot90(x, k, dims=(-2, -1)) for k in range(4)])
    labels = torch.arange(4, device=x.device).repeat_interleave(len(x))
    return rotated, labels


def rotation_step(model: nn.Module, batch: tuple, progress: float, head: str = "rotation"):
    """The pretext step for :func:`tlkit.train.fit` on unlabelled batches ``(x, ...)`` of square images: the 4N
    rotations of ``x`` grouped by angle (as :func:`rotate_batch`), their int64 labels 0..3, one ``model`` call on all
    of them (a MultiHead: its ``head`` logits), the mean cross-entropy. Returns (loss, 4N x 4 logits, labels, {})."""
    x = batch[0]
    images = torch.cat([torch.rot90(x, k, dims=(-2, -1)) for k in range(4)])
    labels = torch.arange(4, device=x.device).repeat_interleave(len(x))
    logits = model(images)[head]
    return F.cross_entropy(logits.float(), labels), logits, labels, {}


def source_and_rotation_step(model: nn.Module, batch: tuple, progress: float, weight: float = 1.0,
                             task: str = "digit", pretext: Callable = rotation_step):
    """Supervised + pretext at once on ``tlkit.data.Paired`` batches (source x, source y, target x): the ``task``
    head's cross-entropy on the labelled source plus ``weight`` times the pretext step's loss on the target images
    (``pretext(model, (target x,), progress)``, e.g. :func:`rotation_step`; the two domains go through the trunk in
    separate calls). Returns the task head's logits; metrics: ``rotation_loss``, ``rotation_acc`` (the pretext's)."""
    xs, ys, xt = batch[:3]
    logits = model.heads[task](pooled_features(model, xs))
    rotation_loss, rot, yr, _ = pretext(model, (xt,), progress)
    loss = F.cross_entropy(logits.float(), ys) + weight * rotation_loss
    with torch.no_grad():
        metrics = {"rotation_loss": rotation_loss.detach(), "rotation_acc": (rot.argmax(1) == yr).float().mean()}
    return loss, logits, ys, metrics
