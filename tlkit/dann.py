"""Domain-adversarial training (DANN, Ganin et al., JMLR 2016): the gradient reversal layer, its lambda
schedule, the DANN objective, a model wrapper, a training loop, and the proxy A-distance between two
feature sets.

The MNIST-M blend of the same paper is :func:`tlkit.data.blend_mnist_m`.
"""
from __future__ import annotations

import copy
import math
import time
from typing import Callable

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from .train import _autocast, _model_device, _to, predict


class _GradReverse(torch.autograd.Function):
    """Identity forward; the incoming gradient times ``-lambd`` backward (``lambd`` is stored per call)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lambd: float) -> torch.Tensor:
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        return grad_output.neg() * ctx.lambd, None


def grad_reverse(x: torch.Tensor, lambd: float = 1.0) -> torch.Tensor:
    """The gradient reversal layer: ``x`` unchanged forward, gradient multiplied by ``-lambd`` backward."""
    return _GradReverse.apply(x, float(lambd))


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
    random half of each set and measured on the other half. About 0 for indistinguishable sets, 2 for
    separable ones. Arrays or tensors of shape (N, D).
    """
    xs = _numpy2d(features_source)
    xt = _numpy2d(features_target)
    rng = np.random.default_rng(seed)
    ps, pt = rng.permutation(len(xs)), rng.permutation(len(xt))
    hs, ht = len(xs) // 2, len(xt) // 2
    x_train = np.concatenate([xs[ps[:hs]], xt[pt[:ht]]])
    y_train = np.concatenate([np.zeros(hs), np.ones(ht)])
    x_test = np.concatenate([xs[ps[hs:]], xt[pt[ht:]]])
    y_test = np.concatenate([np.zeros(len(xs) - hs), np.ones(len(xt) - ht)])
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    clf.fit(x_train, y_train)
    err = float(np.mean(clf.predict(x_test) != y_test))
    return 2.0 * (1.0 - 2.0 * err)


def _numpy2d(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(len(x), -1)


def dann_loss(class_logits_s: torch.Tensor, labels_s: torch.Tensor,
              domain_logits_s: torch.Tensor, domain_logits_t: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy on the labelled source batch + mean binary cross-entropy (with logits) of the domain
    head over all source (label 0) and target (label 1) samples. Domain logits are (N, 1): a logit for 'target'.
    """
    domain_logits = torch.cat([domain_logits_s, domain_logits_t]).float()
    domain_labels = torch.cat([torch.zeros_like(domain_logits_s), torch.ones_like(domain_logits_t)]).float()
    return F.cross_entropy(class_logits_s.float(), labels_s) + F.binary_cross_entropy_with_logits(domain_logits,
                                                                                                 domain_labels)


class DANN(nn.Module):
    """A classifier split into ``features`` + ``head`` (e.g. :class:`tlkit.models.DigitNet`) with a domain head
    (``feature_dim`` -> ``hidden`` -> 1, as in Ganin et al.'s digit experiments) behind a gradient reversal layer.

    ``model(x)`` gives class logits (so ``tlkit.train.predict``/``evaluate`` work unchanged);
    ``model.domain_logits(features, lambd)`` gives the (N, 1) 'target' logits through ``reverse`` (default
    :func:`grad_reverse`; pass your own to train with it).
    """

    def __init__(self, net: nn.Module, hidden: int = 100, reverse: Callable | None = None):
        super().__init__()
        self.features, self.head = net.features, net.head
        self.feature_dim = net.feature_dim
        self.domain_head = nn.Sequential(nn.Linear(net.feature_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.reverse = reverse or grad_reverse

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def domain_logits(self, features: torch.Tensor, lambd: float) -> torch.Tensor:
        return self.domain_head(self.reverse(features, lambd))


def dann_lr_factor(progress: float, alpha: float = 10.0, beta: float = 0.75) -> float:
    """Ganin et al.'s learning-rate annealing: the initial rate times ``1 / (1 + alpha * progress) ** beta``."""
    return 1.0 / (1.0 + alpha * float(progress)) ** beta


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> nn.Module:
    """A copy of ``model`` whose BatchNorm running statistics are re-estimated on ``x`` (AdaBN, Li et al. 2016):
    the cheapest domain adaptation, no gradient step. ``model`` itself is untouched."""
    model = copy.deepcopy(model)
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over all batches
    dev = _model_device(model)
    model.train()
    for i in range(0, len(x), batch_size):
        model(_to(x[i : i + batch_size], dev))
    for m, momentum in zip(bns, momenta):
        m.momentum = momentum
    return model.eval()


def _batches(x: torch.Tensor, y: torch.Tensor | None, batch_size: int, generator: torch.Generator):
    """Endless shuffled batches (a new permutation every pass; incomplete tails dropped)."""
    n = len(x)
    if n < batch_size:
        raise ValueError(f"need at least batch_size={batch_size} samples, got {n}")
    while True:
        order = torch.randperm(n, generator=generator)
        for i in range(0, n - batch_size + 1, batch_size):
            idx = order[i : i + batch_size]
            yield x[idx], (None if y is None else y[idx])


def train_dann(
    model: DANN,
    source: tuple[torch.Tensor, torch.Tensor],
    target: torch.Tensor | None,
    optimizer: torch.optim.Optimizer,
    steps: int,
    batch_size: int = 64,
    lambda_schedule: Callable[[float], float] = dann_lambda,
    loss_fn: Callable = dann_loss,
    eval_every: int | None = None,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    lr_schedule: Callable[[float], float] | None = None,
    seed: int = 0,
    joint_batchnorm: bool = False,
    progress: bool = True,
    desc: str = "dann",
) -> dict[str, list[float]]:
    """Train ``model`` (a :class:`DANN`) for ``steps`` steps of ``batch_size`` source + ``batch_size`` target images.

    ``source`` = (images, labels), ``target`` = unlabelled images (``None``: source-only training of the same
    network, the domain head untouched). Source and target batches go through ``features`` as separate calls, so
    BatchNorm normalises each domain with its own batch statistics. ``lambda_schedule(progress)`` gives the
    reversal weight, ``lr_schedule(progress)`` (optional) a factor on every group's initial learning rate.

    Returns the history every ``eval_every`` steps (default: 10 points): ``step``, ``lambda``, ``train_loss``,
    ``class_loss``, ``domain_loss``, ``domain_acc``, ``train_acc``, ``seconds`` and with ``val`` = (images, labels)
    ``val_acc`` (e.g. target test accuracy: only for monitoring, never for choosing anything).
    """
    dev = _model_device(model)
    gen = torch.Generator().manual_seed(seed)
    src = _batches(source[0], source[1], batch_size, gen)
    tgt = None if target is None else _batches(target, None, batch_size, gen)
    eval_every = eval_every or max(1, steps // 10)
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    keys = ["step", "lambda", "train_loss", "class_loss", "domain_loss", "domain_acc", "train_acc", "seconds"]
    history: dict[str, list[float]] = {k: [] for k in keys + (["val_acc"] if val is not None else [])}
    sums = dict.fromkeys(["loss", "class", "domain", "dom_correct", "dom_n", "correct", "n"], 0.0)
    start = time.perf_counter()
    model.train()
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress)
    for step in bar:
        p = (step - 1) / max(1, steps - 1)
        lambd = lambda_schedule(p)
        if lr_schedule is not None:
            for g, lr in zip(optimizer.param_groups, base_lrs):
                g["lr"] = lr * lr_schedule(p)
        xs, ys = next(src)
        xs, ys = _to(xs, dev), ys.to(dev)
        with _autocast(dev):
            if tgt is not None and joint_batchnorm:
                f = model.features(torch.cat([xs, _to(next(tgt)[0], dev)]))
                fs, ft = f[: len(xs)], f[len(xs) :]
            else:
                fs = model.features(xs)
                ft = None if tgt is None else model.features(_to(next(tgt)[0], dev))
            logits = model.head(fs)
            if tgt is not None:
                ds, dt = model.domain_logits(fs, lambd), model.domain_logits(ft, lambd)
                loss = loss_fn(logits, ys, ds, dt)
            else:
                loss = F.cross_entropy(logits.float(), ys)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            class_loss = F.cross_entropy(logits.float(), ys)
            sums["loss"] += loss.item()
            sums["class"] += class_loss.item()
            sums["correct"] += (logits.argmax(1) == ys).sum().item()
            sums["n"] += len(ys)
            if tgt is not None:
                sums["domain"] += (loss - class_loss).item()
                sums["dom_correct"] += (ds < 0).sum().item() + (dt > 0).sum().item()
                sums["dom_n"] += len(ds) + len(dt)
        if step % eval_every == 0 or step == steps:
            k = max(1, step - (history["step"][-1] if history["step"] else 0))
            history["step"].append(step)
            history["lambda"].append(lambd)
            history["train_loss"].append(sums["loss"] / k)
            history["class_loss"].append(sums["class"] / k)
            history["domain_loss"].append(sums["domain"] / k if tgt is not None else float("nan"))
            history["domain_acc"].append(sums["dom_correct"] / sums["dom_n"] if sums["dom_n"] else float("nan"))
            history["train_acc"].append(sums["correct"] / sums["n"])
            history["seconds"].append(time.perf_counter() - start)
            if val is not None:
                history["val_acc"].append(target_accuracy(model, *val))
            sums = dict.fromkeys(sums, 0.0)
            bar.set_postfix({k: f"{history[k][-1]:.3f}" for k in ("lambda", "class_loss", "domain_acc")
                             + (("val_acc",) if val is not None else ())})
    return history


def target_accuracy(model: nn.Module, x: torch.Tensor, y, batch_size: int = 500) -> float:
    """Top-1 accuracy of ``model`` on (x, y) in eval mode."""
    logits = predict(model, x, batch_size=batch_size)
    return (logits.argmax(1) == torch.as_tensor(y)).float().mean().item()


def features_of(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """``model.features(x)`` in eval mode as a float32 NumPy array (N, feature_dim)."""
    return predict(model.features, x, batch_size=batch_size).numpy()
