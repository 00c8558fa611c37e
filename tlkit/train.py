"""Training and evaluation loops: tqdm progress bars, a returned history, bf16 autocast on CUDA,
channels_last for conv nets (about 2x faster on a CPU as well)."""
from __future__ import annotations

import random
import time
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm


def device() -> torch.device:
    """The best available device: cuda, then mps, then cpu."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _autocast(dev: torch.device):
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")


def _to(x: torch.Tensor, dev: torch.device) -> torch.Tensor:
    x = x.to(dev, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x


def prepare(model: nn.Module, dev: torch.device | None = None) -> nn.Module:
    """Move ``model`` to ``dev`` (default: :func:`device`) in channels_last memory format."""
    return model.to(dev or device(), memory_format=torch.channels_last)


def _model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 64, progress: bool = False) -> torch.Tensor:
    """``model(x)`` in eval mode, batch by batch, returned as float32 on the CPU. The mode is restored."""
    was_training, dev = model.training, _model_device(model)
    model.eval()
    out = []
    for i in tqdm(range(0, len(x), batch_size), desc="predict", disable=not progress, leave=False):
        with _autocast(dev):
            out.append(model(_to(x[i : i + batch_size], dev)).float().cpu())
    model.train(was_training)
    return torch.cat(out)


def accuracy(logits: torch.Tensor, labels) -> float:
    """Top-1 accuracy of ``logits`` (N x C) against integer ``labels``."""
    return (logits.argmax(1).cpu() == torch.as_tensor(labels).cpu()).float().mean().item()


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable) -> dict[str, float]:
    """Mean cross-entropy and top-1 accuracy of ``model`` over ``loader`` (batches of (x, y)), in eval mode."""
    was_training, dev = model.training, _model_device(model)
    model.eval()
    loss = correct = n = 0.0
    for x, y in loader:
        x, y = _to(x, dev), y.to(dev)
        with _autocast(dev):
            logits = model(x).float()
        loss += nn.functional.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
        n += len(y)
    model.train(was_training)
    return {"loss": loss / n, "acc": correct / n}


def cross_entropy_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The default training objective: (cross-entropy loss, logits)."""
    logits = model(x)
    return nn.functional.cross_entropy(logits.float(), y), logits


def fit(
    model: nn.Module,
    train_loader: Iterable,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    val_loader: Iterable | None = None,
    loss_fn: Callable = cross_entropy_step,
    scheduler=None,
    progress: bool = True,
    desc: str = "fit",
) -> dict[str, list[float]]:
    """Train ``model`` for ``epochs``; ``loss_fn(model, x, y) -> (loss, logits)`` (extra penalties go there).
    Batches may carry extra tensors after ``(x, y)`` (e.g. cached teacher logits); they are passed on:
    ``loss_fn(model, x, y, *extra)``.

    Returns the history: per epoch ``train_loss``, ``train_acc``, ``seconds`` and, with a ``val_loader``,
    ``val_loss`` and ``val_acc``. ``scheduler.step()`` runs once per epoch. ``fit`` calls ``model.train()`` at each epoch start, so
    BatchNorm layers that must stay frozen need a freeze that survives it (``tlkit.freezing``).
    """
    dev = _model_device(model)
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "seconds": []}
    if val_loader is not None:
        history.update(val_loss=[], val_acc=[])
    bar = tqdm(range(epochs), desc=desc, disable=not progress)
    for _ in bar:
        start = time.perf_counter()
        model.train()
        total = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev)
        n = 0
        for x, y, *extra in train_loader:
            x, y, extra = _to(x, dev), y.to(dev), [_to(e, dev) for e in extra]
            with _autocast(dev):
                loss, logits = loss_fn(model, x, y, *extra)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(y)
            correct += (logits.detach().argmax(1) == y).sum()
            n += len(y)
        if scheduler is not None:
            scheduler.step()
        history["train_loss"].append(total.item() / n)
        history["train_acc"].append(correct.item() / n)
        history["seconds"].append(time.perf_counter() - start)
        if val_loader is not None:
            val = evaluate(model, val_loader)
            history["val_loss"].append(val["loss"])
            history["val_acc"].append(val["acc"])
        bar.set_postfix({k: f"{v[-1]:.3f}" for k, v in history.items() if k != "seconds"})
    return history
