"""Catastrophic forgetting and its cures: a two-headed model that keeps its old ImageNet head, the diagonal
empirical Fisher, the EWC and L2-SP penalties, and the LwF / knowledge-distillation loss.

* EWC    -- Kirkpatrick et al. 2017, "Overcoming catastrophic forgetting in neural networks".
* L2-SP  -- Li, Grandvalet & Davoine 2018, "Explicit inductive bias for transfer learning with CNNs".
* LwF    -- Li & Hoiem 2016, "Learning without Forgetting"; the T**2 factor from Hinton et al. 2015.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from .models import Wrapper, pooled_features


class TwoHeads(Wrapper):
    """A pretrained classifier that keeps its old head and grows a new one on the same pooled features.

    ``backbone`` is any timm-interface model (EfficientNet or :class:`tlkit.models.DigitNet`) with its original
    classifier; it stays a complete old-task classifier (``model.backbone(x)`` -> old logits).
    ``model(x)`` returns the new head's logits (so ``tlkit.train.fit``/``evaluate`` work on the new task);
    ``model.both(x)`` returns ``(old_logits, new_logits)`` from one pass through the trunk.
    """

    def __init__(self, backbone: nn.Module, num_classes: int):
        super().__init__(backbone)
        self.new_head = nn.Linear(backbone.num_features, num_classes)

    def get_classifier(self) -> nn.Module:
        return self.new_head

    def both(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(old logits, new logits) from one pass through the trunk."""
        f = pooled_features(self, x)
        return self.backbone.get_classifier()(f), self.new_head(f)


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of every trainable parameter of ``model`` (the anchor of EWC and L2-SP)."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def fisher_diagonal(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                    batch_size: int = 32) -> dict[str, torch.Tensor]:
    """The diagonal empirical Fisher of ``model``'s cross-entropy on (``inputs``, ``targets``).

    For each trainable parameter: the mean over samples of the squared gradient of that sample's own loss at its
    observed label (per-sample gradients with ``torch.func.vmap``). Squaring the gradient of the batch-mean loss
    instead (the batch-mean bug) gives a different and much smaller quantity. Computed in eval mode (BatchNorm running statistics, no dropout), ``batch_size``
    samples at a time; the model's parameters and train/eval mode are left as they were.
    """
    dev = next(model.parameters()).device
    params = {n: p.detach() for n, p in model.named_parameters() if p.requires_grad}
    buffers = {n: b.detach() for n, b in model.named_buffers()}

    def sample_loss(p, x, y):
        logits = functional_call(model, (p, buffers), (x.unsqueeze(0),))
        return F.cross_entropy(logits.float(), y.unsqueeze(0))

    per_sample_grads = vmap(grad(sample_loss), in_dims=(None, 0, 0))
    fisher = {n: torch.zeros_like(p) for n, p in params.items()}
    was_training = model.training
    model.eval()
    try:
        for i in range(0, len(inputs), batch_size):
            x = inputs[i : i + batch_size].to(dev)
            y = torch.as_tensor(targets[i : i + batch_size]).to(dev)
            for n, g in per_sample_grads(params, x, y).items():
                fisher[n] += g.pow(2).sum(0)
    finally:
        model.train(was_training)
    return {n: f / len(inputs) for n, f in fisher.items()}


def ewc_penalty(model: nn.Module, fisher: dict[str, torch.Tensor], anchor: dict[str, torch.Tensor],
                lam: float) -> torch.Tensor:
    """EWC: ``lam / 2 * sum_i F_i * (theta_i - anchor_i)**2`` over the parameters named in ``fisher``; a scalar
    tensor on the model's device that back-propagates into those parameters."""
    params = dict(model.named_parameters())
    total = torch.zeros((), device=next(model.parameters()).device)
    for n, f in fisher.items():
        total = total + (f * (params[n] - anchor[n]) ** 2).sum()
    return lam / 2 * total


def l2sp_penalty(model: nn.Module, anchor: dict[str, torch.Tensor], alpha: float) -> torch.Tensor:
    """L2-SP: ``alpha / 2 * sum ||theta - anchor||**2`` over the parameters named in ``anchor`` (weight decay
    towards the starting point instead of towards zero); a scalar tensor that back-propagates."""
    params = dict(model.named_parameters())
    total = torch.zeros((), device=next(model.parameters()).device)
    for n, a in anchor.items():
        total = total + ((params[n] - a) ** 2).sum()
    return alpha / 2 * total


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, T: float) -> torch.Tensor:
    """``T**2 * KL(softmax(teacher / T) || softmax(student / T))``, averaged over the batch.

    The teacher is a fixed target (detached). The ``T**2`` keeps the gradient scale independent of ``T``.
    """
    log_student = F.log_softmax(student_logits.float() / T, dim=1)
    log_teacher = F.log_softmax(teacher_logits.detach().float() / T, dim=1)
    return T**2 * F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True)
