"""Domain-adversarial training (DANN, Ganin et al., JMLR 2016): the gradient reversal layer, its lambda
schedule, the DANN objective, a model wrapper, the DANN step for :func:`tlkit.train.fit`, AdaBN, and the proxy
A-distance between two feature sets.

The MNIST-M blend of the same paper is :func:`tlkit.data.blend_mnist_m`; paired source + target batches are
:class:`tlkit.data.Paired`.
"""
from __future__ import annotations

import copy
import math
from typing import Callable

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.nn import functional as F

from .models import Wrapper, pooled_features
from .runtime import model_device, to_device


class _GradReverse(torch.autograd.Function):
    """Identity forward; the incoming gradient times ``-lambd`` backward (``lambd`` is stored per call)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lambd: float) -> torch.Tensor:
        ctx.lambd = float(lambd)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        return -ctx.lambd * grad_output, None     # no gradient for lambd


def grad_reverse(x: torch.Tensor, lambd: float = 1.0) -> torch.Tensor:
    """The gradient reversal layer: ``x`` unchanged forward, gradient multiplied by ``-lambd`` backward."""
    return _GradReverse.apply(x, lambd)


def dann_lambda(progress: float, gamma: float = 10.0) -> float:
    """Ganin et al.'s schedule for the reversal weight: ``2 / (1 + exp(-gamma * progress)) - 1``, 0 -> ~1.

    ``progress`` is the fraction of training done, in [0, 1] (``ValueError`` outside).
    """
    progress = float(progress)
    if not 0.0 <= progress <= 1.0:
        raise ValueError(f"progress must be in [0, 1], got {progress}")
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0


def proxy_a_distance(features_source, features_target, seed: int = 0) -> float:
    """Proxy A-distance ``2 * (1 - 2 * err)`` (Ben-David et al. 2007; Ganin et al. 2016).

    ``err`` is the test error of a linear domain classifier (standardised logistic regression) trained on a
    random half of each set (chosen with ``seed``) and measured on the other half. About 0 for indistinguishable
    sets, 2 for separable ones. NumPy arrays or CPU tensors of shape (N, D) (e.g. ``tlkit.train.features``).
    """
    xs = np.asarray(features_source, dtype=np.float64).reshape(len(features_source), -1)
    xt = np.asarray(features_target, dtype=np.float64).reshape(len(features_target), -1)
    rng = np.random.default_rng(seed)
    xs, xt = xs[rng.permutation(len(xs))], xt[rng.permutation(len(xt))]
    hs, ht = len(xs) // 2, len(xt) // 2
    x_fit, y_fit = np.concatenate([xs[:hs], xt[:ht]]), np.r_[np.zeros(hs), np.ones(ht)]
    x_eval, y_eval = np.concatenate([xs[hs:], xt[ht:]]), np.r_[np.zeros(len(xs) - hs), np.ones(len(xt) - ht)]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x_fit, y_fit)
    err = float(np.mean(clf.predict(x_eval) != y_eval))
    return 2.0 * (1.0 - 2.0 * err)


def dann_loss(class_logits_s: torch.Tensor, labels_s: torch.Tensor,
              domain_logits_s: torch.Tensor, domain_logits_t: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy on the labelled source batch + mean binary cross-entropy (with logits) of the domain
    head over all source (label 0) and target (label 1) samples. Domain logits are (N, 1): a logit for 'target'.
    (Under CUDA autocast both losses are computed in float32.)
    """
    domain_logits = torch.cat([domain_logits_s, domain_logits_t])
    domain_labels = torch.cat([torch.zeros_like(domain_logits_s), torch.ones_like(domain_logits_t)])
    return F.cross_entropy(class_logits_s, labels_s) + F.binary_cross_entropy_with_logits(domain_logits, domain_labels)


class DANN(Wrapper):
    """Any timm-interface classifier (``forward_features``, ``forward_head``, ``num_features``, ``get_classifier``;
    e.g. :class:`tlkit.models.DigitNet` or EfficientNet) with a domain head on its pooled features
    (``num_features`` -> ``hidden`` -> 1, as in Ganin et al.'s digit experiments) behind a gradient reversal layer.

    It keeps the interface: ``model(x)`` gives class logits (``tlkit.train.predict``/``evaluate``/``features`` work
    unchanged); ``model.domain_logits(features, lambd)`` gives the (N, 1) 'target' logits of pooled features through
    ``reverse`` (default :func:`grad_reverse`; set your own to train with it).
    """

    def __init__(self, backbone: nn.Module, hidden: int = 100, reverse: Callable | None = None):
        super().__init__(backbone)
        self.domain_head = nn.Sequential(nn.Linear(backbone.num_features, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.reverse = reverse or grad_reverse

    def get_classifier(self) -> nn.Module:
        return self.backbone.get_classifier()

    def domain_logits(self, features: torch.Tensor, lambd: float) -> torch.Tensor:
        return self.domain_head(self.reverse(features, lambd))


def dann_step(model: DANN, batch: tuple, progress: float, lambda_schedule: Callable[[float], float] = dann_lambda,
              loss_fn: Callable = dann_loss, joint_batchnorm: bool = False):
    """One DANN step for :func:`tlkit.train.fit` on a batch (source images, source labels, target images) — e.g.
    ``tlkit.data.Paired(loader(xs, ys), loader(xt))``. Options via ``functools.partial``.

    Source and target go through the trunk as separate calls (BatchNorm normalises each domain with its own batch
    statistics) unless ``joint_batchnorm``. Metrics: ``lambda``, ``class_loss``, ``domain_loss``, ``domain_acc``.
    """
    xs, ys, xt = batch[:3]
    lambd = lambda_schedule(progress)
    if joint_batchnorm:
        f = pooled_features(model, torch.cat([xs, xt]))
        fs, ft = f[: len(xs)], f[len(xs) :]
    else:
        fs, ft = pooled_features(model, xs), pooled_features(model, xt)
    logits = model.get_classifier()(fs)
    ds, dt = model.domain_logits(fs, lambd), model.domain_logits(ft, lambd)
    loss = loss_fn(logits, ys, ds, dt)
    with torch.no_grad():
        class_loss = F.cross_entropy(logits.float(), ys)
        domain_acc = ((ds < 0).sum() + (dt > 0).sum()) / (len(ds) + len(dt))
    metrics = {"lambda": torch.tensor(lambd), "class_loss": class_loss, "domain_loss": loss.detach() - class_loss,
               "domain_acc": domain_acc}
    return loss, logits, ys, metrics


def dann_lr_factor(progress: float, alpha: float = 10.0, beta: float = 0.75) -> float:
    """Ganin et al.'s learning-rate annealing: the initial rate times ``1 / (1 + alpha * progress) ** beta``."""
    return 1.0 / (1.0 + alpha * float(progress)) ** beta


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> nn.Module:
    """A copy of ``model`` whose BatchNorm running statistics are re-estimated on ``x`` (AdaBN, Li et al. 2016):
    the cheapest domain adaptation, no gradient step. ``model`` itself is untouched."""
    model = copy.deepcopy(model)
    bns = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d))]  # and subclasses
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over all batches
    dev = model_device(model)
    model.train()
    for i in range(0, len(x), batch_size):
        model(to_device(x[i : i + batch_size], dev))
    for m, momentum in zip(bns, momenta):
        m.momentum = momentum
    return model.eval()
