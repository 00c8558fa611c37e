"""tlkit.sources (lesson 10): the references of class_subset, ridge_probe, label_efficiency and linear_cka."""
import math

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from tlkit.sources import class_subset, label_efficiency, linear_cka, ridge_probe


def test_class_subset_order_counts_and_errors():
    labels = torch.tensor([0, 1, 2, 1, 0, 2, 2, 1, 0, 3, 3])
    idx = class_subset(labels, [2, 0], 2, torch.Generator().manual_seed(0))
    assert idx.dtype == torch.int64 and labels[idx].tolist() == [2, 2, 0, 0]          # order of `classes`
    again = class_subset(labels, [2, 0], 2, torch.Generator().manual_seed(0))
    assert torch.equal(idx, again) and len(set(idx.tolist())) == 4                   # seeded, no repeats
    g = torch.Generator().manual_seed(5)                                              # the generator's draw order
    expected = torch.tensor([2, 5, 6])[torch.randperm(3, generator=g)[:3]]
    assert torch.equal(class_subset(labels, [2], 3, torch.Generator().manual_seed(5)), expected)
    with pytest.raises(ValueError, match="class 3"):
        class_subset(labels, [0, 3], 3, torch.Generator().manual_seed(0))
    assert class_subset(np.array([1, 1]), [], 1, torch.Generator()).numel() == 0


def test_ridge_probe_matches_sklearn_and_leaves_the_bias_unpenalised():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 7)).astype(np.float32) + 3.0
    y = rng.integers(0, 3, 40)
    w, b = ridge_probe(torch.from_numpy(x), torch.from_numpy(y), 3, l2=2.5)
    assert w.shape == (3, 7) and b.shape == (3,) and w.dtype == torch.float32
    ref = Ridge(alpha=2.5).fit(x.astype(np.float64), np.eye(3)[y])
    assert np.allclose(w.numpy(), ref.coef_, atol=1e-5) and np.allclose(b.numpy(), ref.intercept_, atol=1e-5)
    wide = rng.normal(size=(5, 50))                                                   # more features than samples
    w2, b2 = ridge_probe(wide, [0, 1, 0, 1, 1], 2, l2=1e-3)
    assert w2.dtype == torch.float64 and (torch.as_tensor(wide) @ w2.T + b2).argmax(1).tolist() == [0, 1, 0, 1, 1]


def test_label_efficiency_interpolates_in_log_budget():
    assert label_efficiency([10, 100], [0.5, 0.9], 0.7) == pytest.approx(math.sqrt(10 * 100))
    assert label_efficiency([100, 10, 1000], [0.9, 0.5, 0.95], 0.7) == pytest.approx(math.sqrt(1000))   # unsorted
    assert label_efficiency([3, 30], [0.8, 0.9], 0.7) == 3.0                           # reached at the first budget
    assert label_efficiency([3, 30], [0.5, 0.6], 0.7) == math.inf
    assert label_efficiency([1, 10, 100], [0.2, 0.8, 0.6], 0.8) == pytest.approx(10.0)  # the first crossing


def test_linear_cka_invariances():
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.normal(size=(60, 8)))
    q, _ = torch.linalg.qr(torch.from_numpy(rng.normal(size=(8, 8))))
    assert linear_cka(x, x) == pytest.approx(1.0)
    assert linear_cka(x, 3.0 * x @ q + 5.0) == pytest.approx(1.0)                    # rotation, scale, shift
    y = torch.from_numpy(rng.normal(size=(60, 3)))                                    # another width
    assert 0.0 <= linear_cka(x, y) < 0.5 and linear_cka(x, y) == pytest.approx(linear_cka(y, x))
    with pytest.raises(ValueError, match="same examples"):
        linear_cka(x, y[:10])
