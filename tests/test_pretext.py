"""tlkit.pretext: the rotation pretext (fast unit tests)."""
import functools

import pytest
import torch

from tlkit import data, train
from tlkit.models import DigitNet
from tlkit.multitask import MultiHead, task_head
from tlkit.pretext import rotate_batch, rotation_step, source_and_rotation_step


def test_rotate_batch_counter_clockwise_grouped_by_angle():
    rotated, labels = rotate_batch(torch.tensor([[[[1, 2], [3, 4]]]]))
    assert rotated.tolist() == [[[[1, 2], [3, 4]]], [[[2, 4], [1, 3]]], [[[4, 3], [2, 1]]], [[[3, 1], [4, 2]]]]
    assert labels.dtype == torch.int64 and labels.tolist() == [0, 1, 2, 3]
    x = torch.randn(3, 2, 5, 5)
    x0 = x.clone()
    rotated, labels = rotate_batch(x)
    assert rotated.shape == (12, 2, 5, 5) and labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    for i in range(12):
        assert torch.equal(rotated[i], torch.rot90(x[i % 3], int(labels[i]), dims=(-2, -1)))
    assert torch.equal(x, x0)
    # four turns by 90 degrees are the identity: the 270-degree block turned once more is the input
    assert torch.equal(torch.rot90(rotated[9:], 1, dims=(-2, -1)), x)
    with pytest.raises(ValueError):
        rotate_batch(torch.zeros(2, 3, 4, 5))


def _model(**heads):
    torch.manual_seed(0)
    return MultiHead(DigitNet(num_classes=0), {t: task_head(DigitNet.num_features, k) for t, k in heads.items()})


def test_rotation_step_on_a_multihead_and_on_a_plain_model():
    x = torch.randn(4, 3, 28, 28)
    loss, logits, labels, metrics = rotation_step(_model(rotation=4), (x,), 0.0)
    assert logits.shape == (16, 4) and labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4 and loss.ndim == 0
    torch.manual_seed(0)
    loss, logits, labels, _ = rotation_step(DigitNet(num_classes=4), (x,), 0.0)
    assert logits.shape == (16, 4)
    seen = []
    rotation_step(DigitNet(num_classes=4), (x,), 0.0, rotate=lambda b: (seen.append(len(b)), rotate_batch(b))[1])
    assert seen == [4], "the step must use the rotate function it is given"


def test_pretext_steps_train_with_fit():
    torch.manual_seed(0)
    xs, ys, xt = torch.randn(32, 3, 28, 28), torch.randint(0, 10, (32,)), torch.randn(32, 3, 28, 28)
    model = _model(rotation=4)
    hist = train.fit(model, data.loader(xt, batch_size=8, drop_last=True), torch.optim.Adam(model.parameters(), 1e-3),
                     steps=2, step_fn=rotation_step, progress=False)
    assert len(hist["train_loss"]) == 1
    model = _model(digit=10, rotation=4)
    batches = data.Paired(data.loader(xs, ys, batch_size=8, drop_last=True), data.loader(xt, batch_size=8, drop_last=True))
    step = functools.partial(source_and_rotation_step, weight=0.5)
    hist = train.fit(model, batches, torch.optim.Adam(model.parameters(), 1e-3), steps=3, step_fn=step, progress=False)
    assert {"rotation_loss", "rotation_acc"} <= set(hist)
    loss, logits, labels, metrics = source_and_rotation_step(model, (xs[:4], ys[:4], xt[:2]), 0.0, weight=0.0)
    assert logits.shape == (4, 10) and torch.equal(labels, ys[:4])
    assert torch.allclose(loss, torch.nn.functional.cross_entropy(logits, ys[:4]), atol=1e-5)
