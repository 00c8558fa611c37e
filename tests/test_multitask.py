"""tlkit.multitask: the multi-head model, the two loss weightings and the multi-task step (fast unit tests)."""
import functools
import math

import pytest
import torch
from torch.nn import functional as F

from tlkit import data, train
from tlkit.models import DigitNet
from tlkit.multitask import MultiHead, multitask_step, task_head, transfer_model, uncertainty_weighted_loss


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors (tests/conftest.py)


def _model(**heads):
    torch.manual_seed(0)
    return MultiHead(DigitNet(num_classes=0), {t: task_head(DigitNet.num_features, k) for t, k in heads.items()})


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
    assert {"digit_loss", "parity_loss", "train_acc"} <= set(hist)
    log_vars = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.Adam([{"params": model.parameters()}, {"params": [log_vars], "lr": 0.1}], lr=1e-3)
    step = functools.partial(multitask_step, tasks=("digit", "parity"), log_vars=log_vars)
    hist = train.fit(model, batches, opt, steps=3, step_fn=step, progress=False)
    assert not torch.equal(log_vars.detach(), torch.zeros(2)), "the log-variances must be trained"
    assert hist["w_digit"][-1] > 0 and "w_parity" in hist


def test_multitask_step_values_main_head_and_metrics():
    model = MultiHead(_model(digit=10).backbone, {"parity": task_head(DigitNet.num_features, 2),
                                                  "digit": task_head(DigitNet.num_features, 10),
                                                  "noise": task_head(DigitNet.num_features, 3)}, main="digit").eval()
    x, y = torch.randn(4, 3, 28, 28), torch.tensor([1, 4, 7, 2])
    passes = []
    model.backbone.conv.register_forward_hook(lambda *_: passes.append(1))
    loss, logits, labels, metrics = multitask_step(model, (x, y % 2, y), 0.0, tasks=("parity", "digit"),
                                                   weights={"digit": 0.25, "parity": 1.5, "unused": 9.0})
    assert len(passes) == 1, "one pass through the trunk"
    with torch.no_grad():
        out = model(x)
    ce = {"parity": F.cross_entropy(out["parity"], y % 2), "digit": F.cross_entropy(out["digit"], y)}
    assert math.isclose(loss.item(), (1.5 * ce["parity"] + 0.25 * ce["digit"]).item(), rel_tol=1e-5)
    assert torch.allclose(logits, out["digit"], atol=1e-6) and torch.equal(labels, y)
    assert set(metrics) == {"parity_loss", "digit_loss"} and not metrics["digit_loss"].requires_grad
    with pytest.raises(KeyError):
        multitask_step(model, (x, y % 2, y), 0.0, tasks=("parity", "digit"), weights={"digit": 1.0})
    s = torch.tensor([0.5, -0.3], requires_grad=True)
    loss, _, _, metrics = multitask_step(model, (x, y % 2, y), 0.0, tasks=("parity", "digit"), log_vars=s)
    L = torch.stack([ce["parity"], ce["digit"]])
    assert math.isclose(loss.item(), (torch.exp(-s.detach()) * L + s.detach()).sum().item(), rel_tol=1e-5)
    loss.backward()
    assert torch.allclose(s.grad, 1 - torch.exp(-s.detach()) * L, atol=1e-5)
    assert math.isclose(float(metrics["w_digit"]), math.exp(0.3), rel_tol=1e-6) and not metrics["w_parity"].requires_grad


class _Tiny(torch.nn.Module):   # a timm-interface trunk with 6 features and BatchNorm
    num_features = 6

    def __init__(self):
        super().__init__()
        self.conv, self.bn = torch.nn.Conv2d(3, 6, 3), torch.nn.BatchNorm2d(6)

    def forward_features(self, x):
        return self.bn(self.conv(x))

    def forward_head(self, x, pre_logits=False):
        return x.mean((2, 3))


def test_transfer_model_copies_the_trunk_and_starts_a_fresh_head():
    torch.manual_seed(0)
    pre = MultiHead(_Tiny(), {"digit": task_head(6, 10), "rotation": task_head(6, 4)})
    pre(torch.randn(8, 3, 8, 8))                                     # running statistics away from their start
    before = {k: v.clone() for k, v in pre.state_dict().items()}
    model = transfer_model(pre, 10)
    assert list(model.heads) == ["digit"] and model.main == "digit" and set(pre.heads) == {"digit", "rotation"}
    assert [tuple(p.shape) for p in model.heads["digit"].parameters()] == [(100, 6), (100,), (10, 100), (10,)]
    assert not torch.equal(model.heads["digit"][0].weight, pre.heads["digit"][0].weight), "a fresh head"
    assert all(torch.equal(v, pre.backbone.state_dict()[k]) for k, v in model.backbone.state_dict().items())
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    F.cross_entropy(model(torch.randn(4, 3, 8, 8))["digit"], torch.tensor([0, 1, 2, 3])).backward()
    opt.step()
    assert all(torch.equal(v, before[k]) for k, v in pre.state_dict().items()), "the pretrained model is unchanged"
    torch.manual_seed(5)
    a = transfer_model(pre, 2, task="parity")
    torch.manual_seed(5)
    b = transfer_model(pre, 2, task="parity")
    assert a.main == "parity" and all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
