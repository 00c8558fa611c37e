"""The one training loop, and evaluation: ``fit`` runs optimizer steps (epochs are a view of steps) through a
step function, so supervised training, LwF, DANN and multi-task training share it; tqdm progress, one history
format, bf16 autocast + channels_last on CUDA, no host sync between evaluations."""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable, Iterable, Sized

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from . import checkpoint as ckpt
from .data import endless
from .models import pooled_features
from .runtime import autocast, model_device, release_freed_memory, to_device

StepFn = Callable[[nn.Module, tuple, float], tuple]


# input numbers per inference batch by default: 6 photos at 224 px, 445 digits. Measured on 2 CPU cores, Lite0 at 224 px:
# batch 6 4.6 ms / image, 13 8.1 ms, 27 11.0 ms; its eval activations grow by about 19 MB per photo in the batch
INFERENCE_ELEMENTS = 2**20


def inference_batch(x: torch.Tensor) -> int:
    """The default batch size of ``predict``: as many samples as fit ``INFERENCE_ELEMENTS`` input numbers (1 to 1024).
    Eval-mode outputs do not depend on the batch size; the memory does (EfficientNet's activations at 224 px and batch
    500 are several GB), so the batch shrinks as the inputs grow."""
    per_sample = max(1, x[0].numel()) if len(x) else 1
    return int(min(1024, max(1, INFERENCE_ELEMENTS // per_sample)))


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int | None = None, progress: bool = False) -> torch.Tensor:
    """``model(x)`` in eval mode, batch by batch (default: ``inference_batch(x)``), returned as float32 on the CPU.
    The mode is restored."""
    batch_size = batch_size or inference_batch(x)
    was_training, dev = model.training, model_device(model)
    model.eval()
    out = []
    try:
        for i in tqdm(range(0, len(x), batch_size), desc="predict", disable=not progress, leave=False):
            with autocast(dev):
                out.append(model(to_device(x[i : i + batch_size], dev)).float().cpu())
    finally:
        model.train(was_training)
        if x.numel() >= 8 * INFERENCE_ELEMENTS:   # a large input: its batches' freed activations back to the system
            release_freed_memory()   # (small calls skip it: a training loop's evaluations would re-fault ~12 ms each)
    return torch.cat(out)


def features(model: nn.Module, x: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
    """The pooled feature vectors (what the classifier reads) of a timm-interface model, in eval mode: N x
    ``model.num_features``, float32 on the CPU."""
    return predict(_Pooled(model).train(model.training), x, batch_size)  # predict restores the model's mode


class _Pooled(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        return pooled_features(self.model, x)


def top1_accuracy(logits, labels):
    """Fraction of rows of `logits` (N x C) whose arg-max equals `labels` (N,), as a float in [0, 1]."""
    labels = torch.as_tensor(np.asarray(labels)).to(logits.device).long()
    if logits.ndim != 2 or len(labels) != len(logits):
        raise ValueError(f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} do not match")
    return (logits.argmax(dim=1) == labels).float().mean().item()


def score(model: nn.Module, x: torch.Tensor, y, batch_size: int | None = None) -> float:
    """Top-1 accuracy of ``model`` on in-memory (x, y), in eval mode."""
    return top1_accuracy(predict(model, x, batch_size), y)


@torch.no_grad()
def evaluate(model: nn.Module, batches: Iterable) -> dict[str, float]:
    """Mean cross-entropy and top-1 accuracy of ``model`` over batches of (x, y, ...), in eval mode."""
    was_training, dev = model.training, model_device(model)
    model.eval()
    loss = torch.zeros((), device=dev)
    correct = torch.zeros((), device=dev)
    n = 0
    try:
        for x, y, *_ in batches:
            x, y = to_device(x, dev), y.to(dev)
            with autocast(dev):
                logits = model(x).float()
            loss += F.cross_entropy(logits, y, reduction="sum")
            correct += (logits.argmax(1) == y).sum()
            n += len(y)
    finally:
        model.train(was_training)
    return {"loss": loss.item() / n, "acc": correct.item() / n}


def supervised_step(model: nn.Module, batch: tuple, progress: float):
    """The default step: cross-entropy of ``model(x)`` on ``y`` for a batch (x, y, ...).

    A step function maps (model, batch on the device, progress in [0, 1]) to (loss, logits, labels, metrics):
    ``logits``/``labels`` give the training accuracy, ``metrics`` a dict of extra scalar tensors to average.
    """
    x, y = batch[0], batch[1]
    logits = model(x)
    return F.cross_entropy(logits.float(), y), logits, y, {}


def fit(
    model: nn.Module,
    batches: Iterable,
    optimizer: torch.optim.Optimizer,
    epochs: float | None = None,
    val: Iterable | Callable[[nn.Module], dict] | None = None,
    *,
    steps: int | None = None,
    step_fn: StepFn = supervised_step,
    lr_factor: Callable[[float], float] | None = None,
    eval_every: int | None = None,
    progress: bool = True,
    desc: str = "fit",
    checkpoint: str | Path | None = None,
    resume: str | Path | None = None,
    early_stopping: "EarlyStopping | None" = None,
    monitor: str = "val_acc",
    plateau: torch.optim.lr_scheduler.ReduceLROnPlateau | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` for ``steps`` optimizer steps, or ``epochs`` passes over ``batches`` (re-iterated as needed).

    ``batches`` yields tuples of tensors (e.g. ``tlkit.data.loader``) and has a length (batches per epoch).
    ``step_fn(model, batch, progress)`` computes the loss (:func:`supervised_step` by default);
    ``lr_factor(progress)`` scales every parameter group's initial learning rate at each step.
    Every ``eval_every`` steps (default: once per epoch) and at the end, one record is added to the history:
    ``step``, ``epoch`` (steps / batches per epoch), ``seconds`` (cumulative), ``train_loss`` and ``train_acc`` (means
    since the last record), the step function's metrics, and with ``val`` its ``val_loss``/``val_acc`` (batches of
    (x, y)) or whatever dict ``val(model)`` returns. ``model.train()`` is called before the first step, so BatchNorm
    that must stay frozen needs ``tlkit.freezing.freeze_batchnorm``.

    ``checkpoint=path``: after every record (and at the end) the whole run state is written to ``path`` atomically
    (``tlkit.checkpoint``): a crash or kill at any moment leaves the last complete checkpoint. ``resume=path``
    continues such a run (same model, optimizer, batches and arguments, e.g. rebuilt by the same script): on the CPU
    the final weights are bitwise those of an uninterrupted run and the history is the same (``seconds`` continue
    from the checkpoint's). The data order is restored from the batches' own generators (``tlkit.data.Batches``);
    a finished checkpoint returns its history at once. ``early_stopping`` (an :class:`EarlyStopping`) is stepped
    with the ``monitor`` entry of every record; training stops when it says so, and the weights of the best record
    are put back into ``model`` at the end.

    ``plateau`` (a ``torch.optim.lr_scheduler.ReduceLROnPlateau`` built on ``optimizer``, or anything with
    ``step(value)``) is stepped with the ``monitor`` entry of every record and sets the learning rates itself: not with
    ``lr_factor``, and not checkpointed (not with ``checkpoint`` or ``resume``).
    """
    if not isinstance(batches, Sized) or len(batches) == 0:
        raise ValueError("fit needs batches with a length > 0 (batches per epoch), e.g. tlkit.data.loader(...)")
    per_epoch = len(batches)
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps and epochs")
    steps = int(steps if steps is not None else math.ceil(epochs * per_epoch))
    if steps < 1:
        raise ValueError(f"nothing to train: {steps} steps")
    eval_every = eval_every or per_epoch
    if plateau is not None and (lr_factor is not None or checkpoint is not None or resume is not None):
        raise ValueError("plateau sets the learning rates itself and is not checkpointed: no lr_factor, checkpoint "
                         "or resume with it")
    dev = model_device(model)
    if resume is None:
        run = ckpt.RunState.start(optimizer, batches)
    else:
        run = ckpt.RunState.resume(resume, model, optimizer, steps, per_epoch, early_stopping)
        if run.done:
            return run.history
    stream = _batches_from(batches, run)
    sums: dict[str, torch.Tensor] = {}
    n_seen, start = 0, time.perf_counter() - run.seconds
    model.train()
    bar = tqdm(range(run.first, steps + 1), desc=desc, disable=not progress, initial=run.first - 1, total=steps)
    for step in bar:
        p = (step - 1) / max(1, steps - 1)
        if lr_factor is not None:
            for group, lr in zip(optimizer.param_groups, run.base_lrs):
                group["lr"] = lr * lr_factor(p)
        n_seen += _train_step(model, optimizer, step_fn, tuple(to_device(t, dev) for t in next(stream)), p, sums, dev)
        if step % eval_every == 0 or step == steps:
            _record(run.history, model, val, step, per_epoch, sums, n_seen, time.perf_counter() - start)
            sums, n_seen = {}, 0
            bar.set_postfix({k: f"{v[-1]:.3f}" for k, v in run.history.items() if k not in ("step", "epoch", "seconds")})
            if plateau is not None:
                plateau.step(_monitored(run.history, monitor))
            stop = early_stopping is not None and _early_stop(early_stopping, run, model, monitor)
            run.done = stop or step == steps
            if run.done and run.best_weights is not None:
                model.load_state_dict(run.best_weights)
            if checkpoint is not None:
                run.save(checkpoint, model, optimizer, step, steps, per_epoch, early_stopping)
            if stop:
                break
    bar.close()
    return run.history


def _batches_from(batches, run: ckpt.RunState):
    """The endless batch stream positioned where ``run`` continues: the data order of its start, and the batches
    already trained on skipped (with the batches' own generators: the global random states stay as restored)."""
    for g, s in zip(ckpt.generators(batches), run.data_start):
        g.set_state(s)
    stream = endless(batches)
    for _ in range(run.first - 1):
        next(stream)
    return stream


def _train_step(model, optimizer, step_fn: StepFn, batch: tuple, progress: float, sums: dict, dev) -> int:
    """One optimizer step; adds the batch's summed loss, correct count and metrics to ``sums`` (on the device: no
    host sync) and returns the batch size."""
    with autocast(dev):
        loss, logits, y, metrics = step_fn(model, batch, progress)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        for k, v in {"train_loss": loss * len(y), "train_acc": (logits.argmax(1) == y).sum(),
                     **{k: v * len(y) for k, v in metrics.items()}}.items():
            sums[k] = sums.get(k, 0) + torch.as_tensor(v, device=dev).detach().float()
    return len(y)


def _record(history: dict, model, val, step: int, per_epoch: int, sums: dict, n_seen: int, seconds: float) -> None:
    """Append one record to ``history``: step, epoch, the training means since the last record, the validation
    scores (``model`` is put back in train mode afterwards) and the cumulative seconds."""
    history["step"].append(step)
    history["epoch"].append(step / per_epoch)
    for k, v in sums.items():
        history.setdefault(k, []).append(v.item() / n_seen)
    if val is not None:
        scores = val(model) if callable(val) else {f"val_{k}": v for k, v in evaluate(model, val).items()}
        for k, v in scores.items():
            history.setdefault(k, []).append(float(v))
        model.train()
    history["seconds"].append(seconds)


def _monitored(history: dict, monitor: str) -> float:
    """The last record's ``monitor`` value (ValueError naming the history's keys when there is none)."""
    if monitor not in history:
        raise ValueError(f"monitor={monitor!r} is not in the history: {list(history)}")
    return history[monitor][-1]


def _early_stop(early_stopping: "EarlyStopping", run: ckpt.RunState, model, monitor: str) -> bool:
    """Step ``early_stopping`` with the last record's ``monitor`` value; keep the weights when it improved. True:
    stop training."""
    before = early_stopping.best
    stop = bool(early_stopping.step(_monitored(run.history, monitor)))
    if before is None or early_stopping.best != before:  # improved: keep these weights
        run.best_weights = ckpt.cpu_state_dict(model)
    return stop


class EarlyStopping:
    """Stop when the monitored value has not improved for ``patience`` records in a row.

    ``mode="max"`` (accuracy) or ``"min"`` (loss); an improvement must beat the best so far by more than
    ``min_delta``. ``step(value)`` returns True when training should stop; ``best`` is the best value so far.
    """

    def __init__(self, patience, min_delta=0.0, mode="max"):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = None
        self.bad = 0

    def step(self, value):
        value = float(value)
        if self.best is None:
            improved = True
        elif self.mode == "max":
            improved = value > self.best + self.min_delta
        else:
            improved = value < self.best - self.min_delta
        if improved:
            self.best, self.bad = value, 0
        else:
            self.bad += 1
        return self.bad >= self.patience


def warmup_cosine(step, total, warmup, base_lr, min_lr=0.0):
    """The learning rate at ``step`` (0-based) of ``total``: linear warm-up from 0 over the first ``warmup`` steps
    (``base_lr * step / warmup``), then a cosine from ``base_lr`` at step ``warmup`` down to ``min_lr`` at the last
    step ``total - 1``."""
    if step < warmup:
        return base_lr * step / warmup
    progress = min(1.0, (step - warmup) / max(1, total - 1 - warmup))
    return min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))
