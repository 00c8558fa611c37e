"""tlkit.data.few_labels: a label-scarce subset, exactly k per class (fast unit tests)."""
import numpy as np
import pytest
import torch

from tlkit.data import few_labels


def _draw(labels, k, seed):
    return few_labels(labels, k, torch.Generator().manual_seed(seed))


def test_exactly_k_of_every_class_as_indices_into_the_labels():
    labels = np.random.default_rng(0).permutation(np.repeat(np.arange(10), 30))
    idx = _draw(labels, 4, 0)
    assert idx.dtype == torch.int64 and len(idx) == 40 and len(set(idx.tolist())) == 40
    assert torch.equal(idx, torch.sort(idx).values)
    assert np.bincount(labels[idx.numpy()], minlength=10).tolist() == [4] * 10
    assert sorted(_draw(torch.as_tensor(labels), 30, 1).tolist()) == list(range(300)), "no replacement"


def test_the_generator_decides():
    labels = np.repeat(np.arange(5), 20)
    torch.manual_seed(1)
    a = _draw(labels, 3, 7)
    torch.manual_seed(2)
    assert torch.equal(a, _draw(labels, 3, 7))
    assert not torch.equal(a, _draw(labels, 3, 8))


def test_too_few_examples_name_the_class():
    with pytest.raises(ValueError, match="class 7"):
        _draw(np.r_[np.zeros(10, int), np.full(2, 7)], 3, 0)
