"""tlkit.calibration: MC dropout, expected calibration error, reliability curve, temperature scaling."""
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from tlkit import calibration

pytestmark = pytest.mark.usefixtures("one_thread")


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))


def test_mc_dropout_predict_only_dropout_active_and_modes_restored():
    model = _net()
    model.train()
    model[1].eval()  # a mixed state must come back exactly
    x = torch.randn(20, 6)
    bn_before = model[1].running_mean.clone()
    torch.manual_seed(1)
    probs, entropy = calibration.mc_dropout_predict(model, x, 8)
    assert [m.training for m in model] == [True, False, True, True, True]
    assert torch.equal(model[1].running_mean, bn_before), "BatchNorm stays in eval mode (its statistics untouched)"
    assert probs.shape == (20, 3) and entropy.shape == (20,)
    assert torch.allclose(probs.sum(1), torch.ones(20), atol=1e-5)
    # the same passes by hand: BatchNorm in eval, dropout in train, softmax averaged, entropy of the mean in nats
    model.eval()
    model[3].train()
    torch.manual_seed(1)
    with torch.no_grad():
        expected = torch.stack([model(x).softmax(1) for _ in range(8)]).mean(0)
    assert torch.allclose(probs, expected, atol=1e-6)
    assert torch.allclose(entropy, -(expected * expected.log()).sum(1), atol=1e-5)
    assert entropy.max() <= math.log(3) + 1e-6
    # n passes differ from one deterministic pass
    model.eval()
    with torch.no_grad():
        deterministic = model(x).softmax(1)
    assert not torch.allclose(probs, deterministic, atol=1e-3)


def test_expected_calibration_error():
    probs = torch.tensor([[0.85, 0.15], [0.85, 0.15], [0.65, 0.35], [0.35, 0.65], [0.0, 1.0]])
    labels = torch.tensor([0, 1, 0, 1, 1])
    # bins (n_bins=10): conf 0.85 x2 (acc 0.5), conf 0.65 x2 (acc 1.0), conf 1.0 x1 (acc 1): last bin includes 1.0
    expected = 2 / 5 * 0.35 + 2 / 5 * 0.35 + 1 / 5 * 0.0
    assert calibration.expected_calibration_error(probs, labels, n_bins=10) == pytest.approx(expected)
    assert calibration.expected_calibration_error(np.eye(3), [0, 1, 2]) == pytest.approx(0.0)
    assert calibration.expected_calibration_error(np.eye(3), [1, 2, 0]) == pytest.approx(1.0)
    curve = calibration.reliability_curve(probs, labels, n_bins=10)
    assert curve["count"].sum() == 5 and curve["count"][9] == 1 and curve["count"][8] == 2 and curve["count"][6] == 2
    assert curve["accuracy"][6] == 1.0 and np.isnan(curve["accuracy"][0])
    filled = curve["count"] > 0
    ece = (curve["count"][filled] / 5 * abs(curve["accuracy"][filled] - curve["confidence"][filled])).sum()
    assert ece == pytest.approx(calibration.expected_calibration_error(probs, labels, n_bins=10))


def test_fit_temperature_minimises_nll():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (400,), generator=g)
    clean = torch.randn(400, 4, generator=g) + 2.0 * F.one_hot(labels, 4)
    for scale in (3.0, 0.4):  # over-confident logits need T > 1, under-confident T < 1
        logits = clean * scale
        t = calibration.fit_temperature(logits, labels)
        grid = torch.exp(torch.linspace(-3, 3, 6001))
        nll = torch.stack([F.cross_entropy(logits / g_, labels) for g_ in grid])
        assert t == pytest.approx(grid[nll.argmin()].item(), rel=2e-3)
        assert (t > 1) == (scale > 1)
