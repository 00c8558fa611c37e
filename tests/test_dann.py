"""tlkit.dann (and the MNIST-M blend of tlkit.data): fast unit tests."""
import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tlkit.dann import (DANN, dann_lambda, dann_loss, dann_lr_factor, features_of, grad_reverse, proxy_a_distance,
                        recompute_batchnorm, target_accuracy, train_dann)
from tlkit.data import blend_mnist_m
from tlkit.models import DigitNet


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: one thread is faster (and immune to a busy machine); restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_blend_mnist_m_formula_no_wraparound():
    d = np.array([[[0, 1], [128, 255]]], np.uint8)
    p = np.array([[[[0, 10, 200], [100, 0, 255]], [[30, 60, 90], [255, 255, 0]]]], np.uint8)
    out = blend_mnist_m(d, p)
    assert out.dtype == np.uint8 and out.shape == (1, 2, 2, 3)
    assert out.tolist() == [[[[0, 10, 200], [155, 255, 0]], [[225, 195, 165], [0, 0, 255]]]]
    rng = np.random.default_rng(0)
    d = rng.integers(0, 256, (3, 3, 3), dtype=np.uint8) * (rng.random((3, 3, 3)) < 0.5).astype(np.uint8)
    p = rng.integers(0, 256, (3, 3, 3, 3), dtype=np.uint8)
    ref = np.abs(p.astype(int) - 255 * (d > 0).astype(int)[..., None]).astype(np.uint8)
    assert np.array_equal(blend_mnist_m(d, p), ref)


@pytest.mark.parametrize("shape", [(), (5,), (4, 3), (2, 3, 4, 5)])
def test_grad_reverse_identity_forward_scaled_reversed_backward(shape):
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    w = torch.randn(shape, dtype=torch.float64)
    y = grad_reverse(x, 2.5)
    assert y.shape == x.shape and y.dtype == x.dtype and torch.equal(y.detach(), x.detach())
    (y * w).sum().backward()
    assert torch.allclose(x.grad, -2.5 * w)


def test_grad_reverse_lambda_is_per_call():
    a, b = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    (grad_reverse(a, 0.3).sum() + grad_reverse(b, 3.0).sum()).backward()
    assert torch.allclose(a.grad, torch.full((3,), -0.3)) and torch.allclose(b.grad, torch.full((3,), -3.0))
    c = torch.ones(2, requires_grad=True)
    grad_reverse(c, 0.0).sum().backward()
    assert torch.equal(c.grad, torch.zeros(2))


def test_dann_lambda_values_and_range():
    assert dann_lambda(0.0) == 0.0
    assert dann_lambda(1.0) == pytest.approx(2 / (1 + math.exp(-10)) - 1)
    assert dann_lambda(0.5, gamma=2.0) == pytest.approx(0.46211715726000974)
    for bad in (-0.01, 1.01, float("nan")):
        with pytest.raises(ValueError):
            dann_lambda(bad)
    assert dann_lr_factor(0.0) == 1.0 and dann_lr_factor(1.0) == pytest.approx(11 ** -0.75)


def test_proxy_a_distance_separable_same_and_held_out():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, (200, 5)), rng.normal(0, 1, (200, 5))
    assert abs(proxy_a_distance(a, b)) < 0.5
    assert proxy_a_distance(a, b + 8) > 1.9
    hi_a, hi_b = rng.normal(0, 1, (300, 200)), rng.normal(0, 1, (300, 200))   # separable training halves
    assert abs(proxy_a_distance(hi_a, hi_b)) < 0.5
    a, b = rng.normal(0, 1, (2000, 2)), rng.normal(0, 1, (2000, 2))
    b[:, 0] += 2.0
    assert proxy_a_distance(torch.as_tensor(a), b) == pytest.approx(1.365, abs=0.15)


def test_dann_loss_matches_definition():
    torch.manual_seed(0)
    cls, labels = torch.randn(5, 10), torch.randint(0, 10, (5,))
    ds, dt = torch.randn(5, 1), torch.randn(3, 1)
    expected = F.cross_entropy(cls, labels) + F.binary_cross_entropy_with_logits(
        torch.cat([ds, dt]), torch.cat([torch.zeros(5, 1), torch.ones(3, 1)]))
    assert torch.allclose(dann_loss(cls, labels, ds, dt), expected)
    big = dann_loss(torch.zeros(1, 2), torch.tensor([0]), torch.tensor([[40.0]]), torch.tensor([[-40.0]]))
    assert big.item() == pytest.approx(math.log(2) + 40.0, abs=1e-3)


def test_dann_model_reverses_only_into_the_features():
    torch.manual_seed(0)
    model = DANN(DigitNet())
    x = torch.randn(4, 3, 28, 28)
    assert model(x).shape == (4, 10)
    model.eval()
    f = model.features(x)
    model.domain_logits(f, 1.0).sum().backward()
    g_rev = model.features[0].weight.grad.clone()
    model.zero_grad()
    model.domain_head(model.features(x)).sum().backward()
    assert torch.allclose(g_rev, -model.features[0].weight.grad, atol=1e-6)


def _toy(n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


@pytest.mark.parametrize("joint", [False, True])
def test_train_dann_history_and_updates(joint):
    torch.manual_seed(0)
    (xs, ys), (xt, yt) = _toy(seed=0), _toy(seed=1)
    model = DANN(DigitNet())
    before = [p.detach().clone() for p in model.domain_head.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    h = train_dann(model, (xs, ys), xt, opt, steps=6, batch_size=8, eval_every=3, val=(xt, yt),
                   lr_schedule=dann_lr_factor, joint_batchnorm=joint, progress=False)
    assert h["step"] == [3, 6] and len(h["val_acc"]) == 2 and len(h["domain_acc"]) == 2
    assert h["lambda"][-1] == pytest.approx(dann_lambda(1.0))
    assert all(0 <= v <= 1 for v in h["domain_acc"]) and all(np.isfinite(h["domain_loss"]))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01 * dann_lr_factor(1.0))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.domain_head.parameters()))


def test_train_dann_source_only_leaves_domain_head():
    torch.manual_seed(0)
    xs, ys = _toy()
    model = DANN(DigitNet())
    before = [p.detach().clone() for p in model.domain_head.parameters()]
    h = train_dann(model, (xs, ys), None, torch.optim.Adam(model.parameters(), 1e-3), steps=4, batch_size=8,
                   progress=False)
    assert len(h["step"]) == 4 and "val_acc" not in h and all(math.isnan(v) for v in h["domain_acc"])
    assert all(torch.equal(a, b) for a, b in zip(before, model.domain_head.parameters()))
    assert 0.0 <= target_accuracy(model, xs, ys) <= 1.0
    assert features_of(model, xs[:5]).shape == (5, DigitNet.feature_dim)


def test_recompute_batchnorm_copies_and_re_estimates():
    torch.manual_seed(0)
    model = DANN(DigitNet()).eval()
    x = torch.randn(32, 3, 28, 28) * 3 + 2
    adapted = recompute_batchnorm(model, x, batch_size=8)
    bn, bn2 = model.features[1], adapted.features[1]
    assert torch.equal(bn.running_mean, torch.zeros(32)) and bn.momentum == bn2.momentum == 0.1
    with torch.no_grad():
        expected = model.features[0](x).mean((0, 2, 3))
    assert torch.allclose(bn2.running_mean, expected, atol=1e-4)
    assert not adapted.training
