"""tlkit.data: the offline data sets, batching and the digit pipeline."""
import numpy as np
import pytest
import torch

from tlkit import data


def test_digit_sets():
    x, y = data.mnist("test")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.bincount(y).min() > 800 and x.max() == 255
    u, v = data.usps("train")
    assert u.shape == (7291, 28, 28) and u.dtype == np.uint8 and set(np.unique(v)) == set(range(10))
    assert data.usps("test", size=16)[0].shape == (2007, 16, 16)
    with pytest.raises(ValueError):
        data.mnist("val")


def test_mnist_m_is_deterministic_blend():
    xm, ym = data.mnist_m("test")
    x, y = data.mnist("test")
    assert xm.shape == (10000, 28, 28, 3) and xm.dtype == np.uint8 and np.array_equal(y, ym)
    again = data.blend_mnist_m(x, data.random_patches(len(x), data.MNIST_M_SEED + 1))
    assert np.array_equal(again, xm)


def test_photo_sets():
    paths, labels = data.imagenet_samples()
    names = data.imagenet_class_names()
    assert len(paths) == 1000 and sorted(labels.tolist()) == list(range(1000)) and len(names) == 1000
    assert names[0] == "tench" and names[labels[1]] in paths[1].name.replace("_", " ")
    for split, n, bees in (("train", 244, 121), ("val", 153, 83)):
        p, y = data.hymenoptera(split)
        assert len(p) == n and y.sum() == bees and all(q.exists() for q in p)


def test_loader_any_number_of_tensors_shuffle_and_flip():
    x = torch.arange(10 * 1 * 1 * 2, dtype=torch.float32).view(10, 1, 1, 2)
    y, w = torch.arange(10), torch.arange(10) * 10
    batches = data.loader(x, y, w, batch_size=4)
    assert len(batches) == 3 and [len(b[0]) for b in batches] == [4, 4, 2]
    assert all(torch.equal(b[2], b[1] * 10) for b in batches), "tensors stay aligned"
    shuffled = data.loader(y, batch_size=10, shuffle=True, seed=1)
    first, second = next(iter(shuffled))[0], next(iter(shuffled))[0]
    assert sorted(first.tolist()) == list(range(10)) and not torch.equal(first, second), "a new order per pass"
    assert torch.equal(first, next(iter(data.loader(y, batch_size=10, shuffle=True, seed=1)))[0]), "seeded"
    flipped = torch.cat([b[0] for b in data.loader(x, batch_size=10, flip=True, seed=0)])
    mirrored = (flipped != x).flatten(1).any(1)
    assert 0 < mirrored.sum() < 10 and torch.equal(flipped[mirrored], x[mirrored].flip(-1))
    assert torch.equal(x, torch.arange(20, dtype=torch.float32).view(10, 1, 1, 2)), "stored images untouched"
    assert len(data.loader(y, batch_size=4, drop_last=True)) == 2
    with pytest.raises(ValueError, match="lengths"):
        data.loader(x, torch.arange(3))


def test_paired_cycles_the_second_stream():
    a = data.loader(torch.arange(6), batch_size=2)
    b = data.loader(torch.arange(100, 103), batch_size=2, drop_last=True)
    pairs = list(data.Paired(a, b))
    assert len(data.Paired(a, b)) == 3 and len(pairs) == 3 and all(len(p) == 2 for p in pairs)
    assert [p[1].tolist() for p in pairs] == [[100, 101]] * 3
    stream = data.endless(data.loader(torch.arange(3), batch_size=2))
    assert [next(stream)[0].tolist() for _ in range(3)] == [[0, 1], [2], [0, 1]]


def test_subset_and_per_class():
    assert data.subset(None, 5).tolist() == [0, 1, 2, 3, 4] and len(data.subset(3, 10, seed=1)) == 3
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    idx = data.per_class(labels, 2, seed=0)
    assert np.bincount(labels[idx]).tolist() == [2, 2, 2] and idx.tolist() == sorted(idx.tolist())
    assert data.per_class(labels, None).tolist() == list(range(9))
    assert np.array_equal(idx, data.per_class(labels, 2, seed=0))


def test_digit_inputs_and_channel_stats():
    grey = np.full((2, 4, 4), 255, np.uint8)
    colour = np.zeros((3, 4, 4, 3), np.uint8)
    x = data.digit_inputs(grey)
    assert x.shape == (2, 3, 4, 4) and x.dtype == torch.float32 and torch.all(x == 1)
    mean, std = data.channel_stats(grey, colour)
    assert torch.allclose(mean, torch.full((3,), 0.4)) and std.shape == (3,)
    z = data.digit_inputs(colour, mean, std)
    assert torch.allclose(z, (0 - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1))
    assert torch.all(data.digit_inputs(grey, scale=1.0) == 255), "scale is the divisor"
