"""Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the knowledge in a neural network"): a small
student learns from a large teacher's softened outputs and from the labels. The reference implementation of lesson
06's ``kd_loss`` lives here. (``tlkit.forgetting.distillation_loss`` is the soft term alone, for LwF.)"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor, T: float = 3.0,
            alpha: float = 0.5) -> torch.Tensor:
    """Hinton's loss: ``alpha * T**2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) *
    CE(student, labels)``; the KL averaged over the batch ('batchmean'), the teacher a fixed target (detached)."""
    log_student = F.log_softmax(student_logits.float() / T, dim=1)
    log_teacher = F.log_softmax(teacher_logits.detach().float() / T, dim=1)
    soft = F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True)
    hard = F.cross_entropy(student_logits.float(), labels)
    return alpha * T**2 * soft + (1 - alpha) * hard


def kd_step(model: nn.Module, batch: tuple, progress: float, *, T: float = 3.0, alpha: float = 0.5, loss_fn=kd_loss):
    """A ``tlkit.train.fit`` step on batches of (x, labels, teacher_logits): ``loss_fn(model(x), teacher_logits,
    labels, T, alpha)``; metric ``teacher_agreement``, the fraction of the batch where student and teacher agree."""
    x, y, teacher = batch[0], batch[1], batch[2]
    logits = model(x)
    agree = (logits.argmax(1) == teacher.argmax(1)).float().mean()
    return loss_fn(logits, teacher, y, T, alpha), logits, y, {"teacher_agreement": agree}
