"""tlkit.multitask: the multi-head model, the two loss weightings and the multi-task step (fast unit tests)."""
import functools
import math

import pytest
import torch
from torch.nn import functional as F

from tlkit import data, train
from tlkit.models import DigitNet
from tlkit.multitask import MultiHead, multitask_loss, multitask_step, task_head, uncertainty_weighted_loss


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors (tests/conftest.py)


def _model(**heads):
    torch.manual_seed(0)
    return MultiHead(DigitNet(num_classes=0), {t: task_head(DigitNet.num_features, k) for t, k in heads.items()})


def test_multitask_loss_is_the_weighted_sum_of_cross_entropies():
    torch.manual_seed(0)
    out = {"a": torch.randn(5, 4, requires_grad=True), "b": torch.randn(5, 2, requires_grad=True)}
    tgt = {"a": torch.randint(0, 4, (5,)), "b": torch.randint(0, 2, (5,)), "extra": torch.zeros(5)}
    w = {"a": 0.3, "b": 1.7}
    loss = multitask_loss(out, tgt, w)
    expected = 0.3 * F.cross_entropy(out["a"], tgt["a"]) + 1.7 * F.cross_entropy(out["b"], tgt["b"])
    assert loss.ndim == 0 and torch.allclose(loss, expected)
    loss.backward()
    assert out["a"].grad is not None and out["b"].grad is not None
    assert math.isclose(multitask_loss({"a": torch.zeros(2, 4)}, {"a": torch.tensor([0, 1])}, {"a": 1.0}).item(),
                        math.log(4), rel_tol=1e-6)


@pytest.mark.parametrize("targets, weights", [({"a": torch.zeros(2).long()}, {"a": 1.0, "noise": 1.0}),
                                              ({"a": torch.zeros(2).long(), "noise": torch.zeros(2).long()}, {"a": 1.0})])
def test_multitask_loss_names_a_head_without_target_or_weight(targets, weights):
    with pytest.raises(KeyError, match="noise"):
        multitask_loss({"a": torch.zeros(2, 3), "noise": torch.zeros(2, 3)}, targets, weights)


def test_uncertainty_weighted_loss_value_and_gradients():
    L = torch.tensor([0.5, 2.0], requires_grad=True)
    s = torch.nn.Parameter(torch.tensor([0.4, -0.2]))
    loss = uncertainty_weighted_loss([L[0], L[1]], s)
    assert math.isclose(loss.item(), (torch.exp(-s) * L + s).sum().item(), rel_tol=1e-6)
    loss.backward()
    assert torch.allclose(s.grad, 1 - torch.exp(-s.detach()) * L.detach())
    assert torch.allclose(L.grad, torch.exp(-s.detach()))
    s_opt = torch.log(torch.tensor([0.2, 3.0])).requires_grad_(True)
    uncertainty_weighted_loss(torch.tensor([0.2, 3.0]), s_opt).backward()
    assert s_opt.grad.abs().max() < 1e-6  # the minimum in s is at exp(s) = L
    with pytest.raises(ValueError):
        uncertainty_weighted_loss([torch.tensor(1.0)] * 3, torch.zeros(2))


def test_multihead_returns_a_dict_and_keeps_the_interface():
    model = _model(digit=10, parity=2).eval()
    x = torch.randn(3, 3, 28, 28)
    out = model(x)
    assert set(out) == {"digit", "parity"} and out["digit"].shape == (3, 10) and out["parity"].shape == (3, 2)
    assert model.get_classifier() is model.heads["digit"] and model.num_features == DigitNet.num_features
    assert torch.allclose(model.head("parity")(x), out["parity"])
    assert torch.allclose(model.forward_head(model.forward_features(x)), out["digit"])
    assert train.features(model, x).shape == (3, DigitNet.num_features)
    assert train.predict(model.head("digit"), x).shape == (3, 10)
    assert _model(digit=10, parity=2).main == "digit"
    with pytest.raises(KeyError):
        model.head("rotation")
    with pytest.raises(KeyError):
        MultiHead(DigitNet(num_classes=0), {"a": torch.nn.Linear(768, 2)}, main="b")
    with pytest.raises(ValueError):
        MultiHead(DigitNet(num_classes=0), {})


def test_multitask_step_with_fixed_and_learned_weights_trains_with_fit():
    torch.manual_seed(0)
    x, y = torch.randn(32, 3, 28, 28), torch.randint(0, 10, (32,))
    batches = data.loader(x, y, y % 2, batch_size=16, shuffle=True, drop_last=True)
    model = _model(digit=10, parity=2)
    step = functools.partial(multitask_step, tasks=("digit", "parity"), weights={"digit": 0.6, "parity": 0.4})
    hist = train.fit(model, batches, torch.optim.Adam(model.parameters(), 1e-3), steps=2, step_fn=step, progress=False)
    assert {"digit_loss", "parity_loss", "digit_acc", "parity_acc"} <= set(hist)
    log_vars = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.Adam([{"params": model.parameters()}, {"params": [log_vars], "lr": 0.1}], lr=1e-3)
    step = functools.partial(multitask_step, tasks=("digit", "parity"), log_vars=log_vars)
    hist = train.fit(model, batches, opt, steps=3, step_fn=step, progress=False)
    assert not torch.equal(log_vars.detach(), torch.zeros(2)), "the log-variances must be trained"
    assert hist["w_digit"][-1] > 0 and "w_parity" in hist
    with pytest.raises(ValueError):
        multitask_step(model, (x[:4], y[:4], y[:4] % 2), 0.0, tasks=("digit", "parity"))


def test_multitask_step_uses_the_given_loss_functions():
    calls = []
    def loss_fn(outputs, targets, weights):
        calls.append(sorted(outputs))
        return multitask_loss(outputs, targets, weights)
    model = _model(digit=10, parity=2)
    x, y = torch.randn(4, 3, 28, 28), torch.randint(0, 10, (4,))
    loss, logits, labels, metrics = multitask_step(model, (x, y, y % 2), 0.0, tasks=("digit", "parity"),
                                                   weights={"digit": 1.0, "parity": 1.0}, loss_fn=loss_fn)
    assert calls == [["digit", "parity"]] and logits.shape == (4, 10) and torch.equal(labels, y)
    assert math.isclose(loss.item(), (metrics["digit_loss"] + metrics["parity_loss"]).item(), rel_tol=1e-5)
