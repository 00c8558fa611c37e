"""tlkit.dann (and the MNIST-M blend of tlkit.data): fast unit tests."""
import functools
import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tlkit import data, train
from tlkit.dann import (DANN, dann_lambda, dann_loss, dann_lr_factor, dann_step, grad_reverse, proxy_a_distance,
                        recompute_batchnorm)
from tlkit.data import blend_mnist_m
from tlkit.models import DigitNet, pooled_features


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors (tests/conftest.py)


def _blend_reference(d, p):
    return np.abs(p.astype(np.int64) - 255 * (d > 0).astype(np.int64)[..., None]).astype(np.uint8)


def test_blend_mnist_m_formula_no_wraparound():
    d = np.array([[[0, 1], [128, 255]]], np.uint8)
    p = np.array([[[[0, 10, 200], [100, 0, 255]], [[30, 60, 90], [255, 255, 0]]]], np.uint8)
    out = blend_mnist_m(d, p)
    assert out.dtype == np.uint8 and out.shape == (1, 2, 2, 3)
    assert out.tolist() == [[[[0, 10, 200], [155, 255, 0]], [[225, 195, 165], [0, 0, 255]]]]
    # every digit value against every patch value: any ink > 0 counts (faint strokes, values above 128 too)
    d = np.tile(np.arange(256, dtype=np.uint8), 256).reshape(1, 256, 256)
    p = np.repeat(np.arange(256, dtype=np.uint8), 256).reshape(1, 256, 256, 1).repeat(3, axis=-1)
    assert np.array_equal(blend_mnist_m(d, p), _blend_reference(d, p))
    # N == H == W == channels == 3 and an asymmetric mask: a mask broadcast on the wrong axis shows
    rng = np.random.default_rng(0)
    d = rng.integers(0, 256, (3, 3, 3), dtype=np.uint8) * (rng.random((3, 3, 3)) < 0.5).astype(np.uint8)
    p = rng.integers(0, 256, (3, 3, 3, 3), dtype=np.uint8)
    d0, p0 = d.copy(), p.copy()
    assert np.array_equal(blend_mnist_m(d, p), _blend_reference(d, p))
    assert np.array_equal(d, d0) and np.array_equal(p, p0), "inputs modified"


def test_mnist_m_is_the_blend_of_its_patches():
    x, _ = data.mnist("test")
    xm, _ = data.mnist_m("test")
    patches = data.random_patches(len(x), data.MNIST_M_SEED + 1)
    assert np.array_equal(xm[:50], blend_mnist_m(x[:50], patches[:50]))


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
    assert dann_lambda(0.25) == pytest.approx(0.8482836399575129)
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
    b[:, 0] += 2.0   # best error Phi(-1) = 0.1587 -> 2 * (1 - 2 * 0.1587) = 1.365
    assert proxy_a_distance(torch.as_tensor(a), b) == pytest.approx(1.365, abs=0.15)
    assert proxy_a_distance(a, b, seed=1) == pytest.approx(1.365, abs=0.15)
    assert proxy_a_distance(a, b, seed=3) == proxy_a_distance(a, b, seed=3)


def test_dann_loss_matches_definition():
    torch.manual_seed(0)
    cls, labels = torch.randn(5, 10), torch.randint(0, 10, (5,))
    ds, dt = torch.randn(5, 1), torch.randn(3, 1)
    expected = F.cross_entropy(cls, labels) + F.binary_cross_entropy_with_logits(
        torch.cat([ds, dt]), torch.cat([torch.zeros(5, 1), torch.ones(3, 1)]))
    assert torch.allclose(dann_loss(cls, labels, ds, dt), expected)
    right = dann_loss(torch.tensor([[9.0, 0.0]]), torch.tensor([0]), torch.full((4, 1), -9.0), torch.full((2, 1), 9.0))
    assert right.item() < 1e-3, "source = 0 (negative logit), target = 1"
    big = dann_loss(torch.zeros(1, 2), torch.tensor([0]), torch.tensor([[40.0]]), torch.tensor([[-40.0]]))
    assert big.item() == pytest.approx(math.log(2) + 40.0, abs=1e-3)


def test_dann_model_has_the_backbone_interface_and_reverses_only_into_the_features():
    torch.manual_seed(0)
    model = DANN(DigitNet())
    x = torch.randn(4, 3, 28, 28)
    assert model(x).shape == (4, 10) and model.num_features == DigitNet.num_features
    assert model.get_classifier() is model.backbone.classifier
    model.eval()
    model.domain_logits(pooled_features(model, x), 1.0).sum().backward()
    g_rev = model.backbone.conv[0].weight.grad.clone()
    model.zero_grad()
    model.domain_head(pooled_features(model, x)).sum().backward()
    assert torch.allclose(g_rev, -model.backbone.conv[0].weight.grad, atol=1e-6)
    with torch.no_grad():
        f = pooled_features(model, x)
    assert torch.allclose(train.features(model, x), f, atol=1e-5)  # (channels_last there: not bit-identical)
    assert f.shape == (4, DigitNet.num_features)


def _toy(n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def _paired(xs, ys, xt, batch_size=8, seed=0):
    return data.Paired(data.loader(xs, ys, batch_size=batch_size, shuffle=True, seed=seed, drop_last=True),
                       data.loader(xt, batch_size=batch_size, shuffle=True, seed=seed + 100, drop_last=True))


@pytest.mark.parametrize("joint", [False, True])
def test_fit_with_dann_step_history_and_updates(joint):
    torch.manual_seed(0)
    (xs, ys), (xt, yt) = _toy(seed=0), _toy(seed=1)
    model = DANN(DigitNet())
    before = [p.detach().clone() for p in model.domain_head.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    step = functools.partial(dann_step, lambda_schedule=dann_lambda, loss_fn=dann_loss, joint_batchnorm=joint)
    h = train.fit(model, _paired(xs, ys, xt), opt, steps=6, val=data.loader(xt, yt, batch_size=16), step_fn=step,
                  lr_factor=dann_lr_factor, eval_every=3, progress=False)
    assert h["step"] == [3, 6] and len(h["val_acc"]) == 2 and len(h["domain_acc"]) == 2
    for k in ("lambda", "class_loss", "domain_loss", "domain_acc", "train_loss", "train_acc", "seconds", "epoch"):
        assert len(h[k]) == 2 and all(np.isfinite(h[k])), k
    # lambda is the mean of the schedule over the steps of each record
    p = [(s - 1) / 5 for s in range(1, 7)]
    assert h["lambda"][1] == pytest.approx(np.mean([dann_lambda(v) for v in p[3:]]), rel=1e-5)
    assert h["train_loss"][0] == pytest.approx(h["class_loss"][0] + h["domain_loss"][0], rel=1e-4)
    assert all(0 <= v <= 1 for v in h["domain_acc"]) and all(v > 0 for v in h["domain_loss"])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01 * dann_lr_factor(1.0))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.domain_head.parameters()))


@pytest.mark.parametrize("joint", [False, True])
def test_dann_step_uses_the_models_reversal_layer_the_schedule_and_the_loss(joint):
    torch.manual_seed(0)
    (xs, ys), xt = _toy(8, seed=0), _toy(8, seed=1)[0]
    model = DANN(DigitNet())
    seen = {}

    def reverse(f, lambd):
        seen.setdefault("lambda", []).append(lambd)
        seen.setdefault("features", []).append(f.detach())
        return grad_reverse(f, lambd)

    def loss(cls, labels, ds, dt):
        seen["shapes"] = (tuple(cls.shape), tuple(ds.shape), tuple(dt.shape))
        return dann_loss(cls, labels, ds, dt)

    model.reverse = reverse
    model.eval()   # deterministic features: the domain head must see the source's, then the target's
    out, logits, labels, metrics = dann_step(model, (xs, ys, xt), 0.5, lambda_schedule=lambda p: 2 * p, loss_fn=loss,
                                             joint_batchnorm=joint)
    assert seen["lambda"] == [1.0, 1.0] and seen["shapes"] == ((8, 10), (8, 1), (8, 1))
    with torch.no_grad():
        assert torch.allclose(seen["features"][0], pooled_features(model, xs), atol=1e-5)
        assert torch.allclose(seen["features"][1], pooled_features(model, xt), atol=1e-5)
        assert torch.allclose(logits, model(xs), atol=1e-5)
    assert torch.equal(labels, ys) and logits.shape == (8, 10)
    assert set(metrics) == {"lambda", "class_loss", "domain_loss", "domain_acc"} and metrics["lambda"] == 1.0
    out.backward()
    assert model.domain_head[0].weight.grad is not None and model.backbone.conv[0].weight.grad is not None


def test_supervised_fit_leaves_the_domain_head_alone():
    torch.manual_seed(0)
    xs, ys = _toy()
    model = DANN(DigitNet())
    before = [p.detach().clone() for p in model.domain_head.parameters()]
    h = train.fit(model, data.loader(xs, ys, batch_size=8, shuffle=True), torch.optim.Adam(model.parameters(), 1e-3),
                  steps=4, eval_every=2, progress=False)
    assert h["step"] == [2, 4] and "domain_acc" not in h and "val_acc" not in h
    assert all(torch.equal(a, b) for a, b in zip(before, model.domain_head.parameters()))
    assert 0.0 <= train.score(model, xs, ys) <= 1.0


def test_recompute_batchnorm_copies_and_re_estimates():
    torch.manual_seed(0)
    model = DANN(DigitNet()).eval()
    x = torch.randn(32, 3, 28, 28) * 3 + 2
    adapted = recompute_batchnorm(model, x, batch_size=8)
    bn, bn2 = model.backbone.conv[1], adapted.backbone.conv[1]
    assert torch.equal(bn.running_mean, torch.zeros(32)) and bn.momentum == bn2.momentum == 0.1
    with torch.no_grad():
        conv_out = model.backbone.conv[0](x)
    assert torch.allclose(bn2.running_mean, conv_out.mean((0, 2, 3)), atol=1e-4)
    batch_vars = torch.stack([conv_out[i : i + 8].var((0, 2, 3)) for i in range(0, 32, 8)])  # unbiased, per batch
    assert torch.allclose(bn2.running_var, batch_vars.mean(0), rtol=1e-4, atol=1e-5)
    assert not adapted.training and adapted is not model
