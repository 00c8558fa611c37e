"""tlkit.distillation: Hinton's kd_loss (T^2, KL direction, batchmean, alpha on the soft term, teacher detached)
and kd_step for tlkit.train.fit."""
import functools

import torch
import torch.nn.functional as F
from torch import nn

from tlkit import data, train
from tlkit.distillation import kd_loss, kd_step


def _reference(s, t, y, T, alpha):
    p_t = torch.softmax(t / T, 1)
    kl = (p_t * (torch.log_softmax(t / T, 1) - torch.log_softmax(s / T, 1))).sum(1).mean()
    return alpha * T**2 * kl + (1 - alpha) * F.cross_entropy(s, y)


def test_kd_loss_value_and_gradients():
    torch.manual_seed(0)
    s, t, y = torch.randn(6, 5, requires_grad=True), (3 * torch.randn(6, 5)).requires_grad_(True), torch.randint(0, 5, (6,))
    loss = kd_loss(s, t, y, T=4.0, alpha=0.3)
    assert torch.allclose(loss, _reference(s.detach(), t.detach(), y, 4.0, 0.3), atol=1e-5)
    loss.backward()
    assert t.grad is None and s.grad.abs().max() > 0
    s2 = s.detach().clone().requires_grad_(True)
    kd_loss(s2, t.detach(), y, T=2.0, alpha=1.0).backward()
    expected = 2.0 * (torch.softmax(s.detach() / 2, 1) - torch.softmax(t.detach() / 2, 1)) / 6
    assert torch.allclose(s2.grad, expected, atol=1e-6)


def test_kd_loss_limits():
    s, t, y = torch.randn(4, 3), torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    assert torch.allclose(kd_loss(s, t, y, T=9.0, alpha=0.0), F.cross_entropy(s, y))
    assert kd_loss(t, t, y, T=3.0, alpha=1.0).abs() < 1e-6
    assert abs(kd_loss(torch.zeros(2, 4), torch.zeros(2, 4), torch.tensor([0, 1])).item() - 0.5 * torch.log(torch.tensor(4.0)).item()) < 1e-6


def test_kd_step_trains_a_student_towards_the_teacher():
    torch.manual_seed(0)
    x = torch.randn(64, 8)
    teacher = nn.Linear(8, 3)
    with torch.no_grad():
        t = teacher(x) * 3
    y = t.argmax(1)
    student = nn.Linear(8, 3)
    step = functools.partial(kd_step, T=2.0, alpha=0.7)
    hist = train.fit(student, data.loader(x, y, t, batch_size=16, shuffle=True), torch.optim.Adam(student.parameters(), 0.05),
                     steps=80, step_fn=step, progress=False)
    assert hist["teacher_agreement"][-1] > 0.9 and hist["train_loss"][-1] < hist["train_loss"][0]
