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


def test_rotation_step_rotates_grouped_by_angle_in_one_call():
    model = _model(digit=10, rot=4).eval()
    seen = []
    model.register_forward_pre_hook(lambda m, args: seen.append(args[0].clone()))
    x = torch.randn(3, 3, 28, 28)
    x0 = x.clone()
    loss, logits, labels, metrics = rotation_step(model, (x, torch.arange(3)), 0.0, head="rot")
    images, expected = rotate_batch(x0)
    assert len(seen) == 1 and torch.equal(seen[0], images) and torch.equal(labels, expected) and torch.equal(x, x0)
    with torch.no_grad():
        ref = model(images)["rot"]
    assert torch.allclose(logits, ref, atol=1e-6) and metrics == {}
    assert torch.allclose(loss, torch.nn.functional.cross_entropy(ref, expected), atol=1e-6)
    _, logits, _, _ = rotation_step(lambda im: {"rotation": im.flatten(1)}, (torch.tensor([[[[1., 2.], [3., 4.]]]]),), 0.0)
    assert logits.tolist() == [[1, 2, 3, 4], [2, 4, 1, 3], [4, 3, 2, 1], [3, 1, 4, 2]]


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
    seen = []
    pretext = lambda m, b, p: (seen.append(len(b[0])), rotation_step(m, b, p))[1]
    source_and_rotation_step(model, (xs[:4], ys[:4], xt[:2]), 0.0, pretext=pretext)
    assert seen == [2], "the step must use the pretext step it is given"
