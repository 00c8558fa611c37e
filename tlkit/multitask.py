"""Multi-task learning: one shared trunk, one head per task, two ways to weigh the tasks' losses, and the target
model built from a pretrained trunk (the pretrain-then-transfer protocol).

* Multi-task learning -- Caruana 1997, "Multitask Learning" (Machine Learning 28): hard parameter sharing.
* Uncertainty weighting -- Kendall, Gal & Cipolla 2018, "Multi-task learning using uncertainty to weigh losses for
  scene geometry and semantics" (CVPR): a learnable log-variance ``s_i`` per task, ``exp(-s_i) * L_i + s_i``.
"""
from __future__ import annotations

import copy
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .models import Wrapper, pooled_features


def task_head(num_features: int, num_classes: int, hidden: int = 100) -> nn.Module:
    """A small task head on pooled features: Linear -> ReLU -> Linear (the source's heads, without dropout)."""
    return nn.Sequential(nn.Linear(num_features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))


class MultiHead(Wrapper):
    """A timm-interface ``backbone`` (its pooled features are the shared trunk's output) with one head per task.

    ``model(x)`` returns a dict ``{task: logits}`` from one pass through the trunk. ``main`` (default: the first
    head) is the head ``get_classifier``/``forward_head`` use; ``model.head(task)`` is a module whose ``forward`` gives
    that head's logits only (for ``tlkit.train.score``/``predict``). Use a backbone without its own classifier,
    e.g. ``DigitNet(num_classes=0)``.
    """

    def __init__(self, backbone: nn.Module, heads: Mapping[str, nn.Module], main: str | None = None):
        super().__init__(backbone)
        if not heads:
            raise ValueError("MultiHead needs at least one head")
        self.heads = nn.ModuleDict(dict(heads))
        self.main = main if main is not None else next(iter(heads))
        if self.main not in self.heads:
            raise KeyError(f"main head {self.main!r} is not one of {list(self.heads)}")

    def get_classifier(self) -> nn.Module:
        return self.heads[self.main]

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        f = pooled_features(self, x)
        return {name: head(f) for name, head in self.heads.items()}

    def head(self, name: str) -> nn.Module:
        """A module computing only head ``name``'s logits (shares this model's weights)."""
        if name not in self.heads:
            raise KeyError(f"no head {name!r}; heads: {list(self.heads)}")
        return _OneHead(self, name)


class _OneHead(nn.Module):
    def __init__(self, model: MultiHead, name: str):
        super().__init__()
        self.model, self.name = model, name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.heads[self.name](pooled_features(self.model, x))


def uncertainty_weighted_loss(losses, log_vars):
    """Kendall et al.'s weighting: ``sum_i exp(-s_i) * L_i + s_i`` for task losses ``L_i`` (a sequence of scalar
    tensors or a 1-d tensor) and learnable log-variances ``s_i`` (a 1-d tensor or nn.Parameter of the same length).
    Gradients flow into both."""
    losses = torch.stack([torch.as_tensor(l) for l in losses]).to(log_vars.dtype)
    if losses.shape != log_vars.shape:
        raise ValueError(f"{len(losses)} losses but log_vars of shape {tuple(log_vars.shape)}")
    return (torch.exp(-log_vars) * losses + log_vars).sum()


def multitask_step(model: MultiHead, batch: tuple, progress: float, tasks: Sequence[str],
                   weights: Mapping[str, float] | None = None, log_vars: torch.Tensor | None = None):
    """One multi-task step for :func:`tlkit.train.fit` on a batch ``(x, labels of tasks[0], labels of tasks[1], ...)``.

    One pass through the trunk (``model(x)``) gives every head's logits; ``L_t`` is head ``t``'s mean cross-entropy
    for each task in ``tasks`` (other heads of the model do not count). Give exactly one of ``weights`` (dict task ->
    float: the loss is ``sum_t weights[t] * L_t``; a task missing from it is a KeyError) and ``log_vars`` (learnable,
    one per task in ``tasks`` order; put it in the optimizer: the loss is :func:`uncertainty_weighted_loss`). Options
    via ``functools.partial``. Returns the main head's logits and labels (the history's ``train_acc``); metrics:
    ``<task>_loss`` per task and, with ``log_vars``, ``w_<task>`` = ``exp(-s)``, all detached.
    """
    x, targets = batch[0], dict(zip(tasks, batch[1:]))
    outputs = model(x)
    losses = {t: F.cross_entropy(outputs[t].float(), targets[t]) for t in tasks}
    if log_vars is None:
        loss = sum(weights[t] * losses[t] for t in tasks)
    else:
        loss = uncertainty_weighted_loss([losses[t] for t in tasks], log_vars)
    metrics = {f"{t}_loss": losses[t].detach() for t in tasks}
    if log_vars is not None:
        metrics.update({f"w_{t}": torch.exp(-s.detach()) for t, s in zip(tasks, log_vars)})
    return loss, outputs[model.main], targets[model.main], metrics


def transfer_model(pretrained: MultiHead, num_classes: int, task: str = "digit") -> MultiHead:
    """The target model of the pretrain-then-transfer protocol: a copy of ``pretrained``'s trunk (its whole state,
    BatchNorm statistics included; nothing shared, so training it leaves ``pretrained`` as it was) with one fresh
    ``task_head(pretrained.num_features, num_classes)`` named ``task`` (from torch's global random state), also when
    ``pretrained`` has a head of that name; the pretraining heads (pretext, source task) are dropped."""
    return MultiHead(copy.deepcopy(pretrained.backbone), {task: task_head(pretrained.num_features, num_classes)})
