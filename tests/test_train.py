"""tlkit.train: the one loop (steps, epochs, step functions, history), predict / evaluate / features."""
import pytest
import torch
from torch import nn

from tlkit import data, models, train
from tlkit.runtime import prepare, seed_everything


def _task(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 28, 28, generator=g)
    return x, (x[:, 0].mean((1, 2)) > 0).long()


def test_fit_learns_and_reports_one_history_format():
    seed_everything(0)
    x, y = _task()
    model = prepare(models.DigitNet(num_classes=2))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    hist = train.fit(model, data.loader(x, y, batch_size=32, shuffle=True), opt, epochs=3,
                     val=data.loader(x, y), progress=False)
    assert set(hist) == {"step", "epoch", "seconds", "train_loss", "train_acc", "val_loss", "val_acc"}
    assert hist["step"] == [8, 16, 24] and hist["epoch"] == [1.0, 2.0, 3.0]
    assert all(len(v) == 3 for v in hist.values())
    assert hist["seconds"] == sorted(hist["seconds"]), "seconds are cumulative"
    assert hist["train_loss"][-1] < hist["train_loss"][0] and hist["val_acc"][-1] > 0.8
    model.train()
    logits = train.predict(model, x[:10])
    assert logits.shape == (10, 2) and model.training, "predict restores the mode"
    assert train.score(model, x, y) == pytest.approx(hist["val_acc"][-1], abs=1e-6)


def test_fit_steps_eval_every_lr_factor_and_step_metrics():
    x, y = _task(64)
    model = models.DigitNet(num_classes=2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen = []

    def step(model, batch, progress):
        seen.append((progress, opt.param_groups[0]["lr"], len(batch)))
        loss, logits, labels, _ = train.supervised_step(model, batch, progress)
        return loss, logits, labels, {"double": 2 * loss.detach()}

    w = torch.ones(64)
    hist = train.fit(model, data.loader(x, y, w, batch_size=16), opt, steps=10, step_fn=step,
                     lr_factor=lambda p: 1 - p, eval_every=3, val=lambda m: {"custom": 1.5}, progress=False)
    assert hist["step"] == [3, 6, 9, 10] and hist["epoch"] == [0.75, 1.5, 2.25, 2.5]
    assert hist["custom"] == [1.5] * 4
    assert hist["double"] == pytest.approx([2 * v for v in hist["train_loss"]], rel=1e-5)
    assert seen[0][0] == 0 and seen[-1][0] == 1 and seen[0][2] == 3, "extra batch tensors reach the step"
    assert seen[0][1] == pytest.approx(0.1) and seen[-1][1] == pytest.approx(0.0)


def test_fit_rejects_bad_arguments():
    x, y = _task(8)
    model, opt = nn.Linear(3, 2), None
    with pytest.raises(ValueError, match="exactly one"):
        train.fit(model, data.loader(x, y), opt, epochs=1, steps=3, progress=False)
    with pytest.raises(ValueError, match="length"):
        train.fit(model, iter([(x, y)]), opt, steps=1, progress=False)


def test_evaluate_features_and_top1():
    x, y = _task(40)
    model = models.DigitNet(num_classes=2).eval()
    out = train.evaluate(model, data.loader(x, y, batch_size=7))
    logits = train.predict(model, x, batch_size=9)
    assert out["acc"] == pytest.approx(train.top1_accuracy(logits, y))
    assert out["loss"] == pytest.approx(nn.functional.cross_entropy(logits, y).item(), rel=1e-4)
    model.train()
    f = train.features(model, x)
    assert model.training, "features restores the mode"
    model.eval()
    assert f.shape == (40, models.DigitNet.num_features)
    assert torch.allclose(model.get_classifier()(f), logits, atol=1e-4)
    assert train.top1_accuracy(torch.eye(3), [0, 1, 1]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        train.top1_accuracy(torch.eye(3), [0, 1])


def test_early_stopping_modes_patience_and_min_delta():
    es = train.EarlyStopping(patience=2)
    assert [es.step(v) for v in (0.5, 0.6, 0.6, 0.55)] == [False, False, False, True] and es.best == 0.6
    es = train.EarlyStopping(patience=2, mode="min", min_delta=0.1)
    assert [es.step(v) for v in (1.0, 0.95, 0.85, 0.84, 0.8)] == [False] * 4 + [True] and es.best == 0.85
    with pytest.raises(ValueError):
        train.EarlyStopping(1, mode="maximum")


def test_fit_early_stopping_stops_and_restores_the_best_weights():
    x, y = _task(64)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 28 * 28, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scores = iter([0.5, 0.7, 0.6, 0.7, 0.65, 0.9])
    weights = []

    def val(m):
        weights.append({k: v.clone() for k, v in m.state_dict().items()})
        return {"score": next(scores)}

    hist = train.fit(model, data.loader(x, y, batch_size=16), opt, steps=40, eval_every=2, val=val, progress=False,
                     early_stopping=train.EarlyStopping(patience=3), monitor="score")
    assert hist["step"] == [2, 4, 6, 8, 10] and hist["score"] == [0.5, 0.7, 0.6, 0.7, 0.65], "stops at step 10"
    for k, v in model.state_dict().items():
        assert torch.equal(v, weights[1][k]), "the weights of the best record (step 4) are restored"
    with pytest.raises(ValueError, match="monitor"):
        train.fit(model, data.loader(x, y, batch_size=16), opt, steps=4, progress=False,
                  early_stopping=train.EarlyStopping(2), monitor="val_acc")


def test_fit_steps_a_plateau_scheduler_with_the_monitored_value():
    x, y = _task(64)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 28 * 28, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    losses, lrs = iter([1.0, 0.9, 0.95, 0.95, 0.95, 0.8]), []

    def step(model, batch, progress):
        lrs.append(opt.param_groups[0]["lr"])
        return train.supervised_step(model, batch, progress)

    hist = train.fit(model, data.loader(x, y, batch_size=16), opt, steps=12, eval_every=2, step_fn=step,
                     val=lambda m: {"val_loss": next(losses)}, monitor="val_loss", plateau=plateau, progress=False)
    assert hist["val_loss"] == [1.0, 0.9, 0.95, 0.95, 0.95, 0.8]
    # records 3 and 4 do not beat 0.9: the second bad one (> patience 1) halves the LR; records 5 and 6 do not halve it
    assert lrs == pytest.approx([0.1] * 8 + [0.05] * 4), "the LR after each record follows the monitored value"
    for bad in ({"lr_factor": lambda p: 1.0}, {"checkpoint": "c.pt"}):
        with pytest.raises(ValueError, match="plateau"):
            train.fit(model, data.loader(x, y, batch_size=16), opt, steps=2, plateau=plateau, progress=False, **bad)


def test_warmup_cosine():
    lrs = [train.warmup_cosine(s, 10, 3, 1.0, 0.1) for s in range(10)]
    assert lrs[:4] == pytest.approx([0, 1 / 3, 2 / 3, 1.0]) and lrs[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lrs[3:], lrs[4:]))
    assert train.warmup_cosine(0, 5, 0, 2.0) == 2.0 and train.warmup_cosine(4, 5, 0, 2.0) == pytest.approx(0.0)


def test_inference_batch_keeps_eval_memory_bounded():
    assert train.inference_batch(torch.zeros(2, 3, 224, 224)) == 6
    assert train.inference_batch(torch.zeros(2, 3, 28, 28)) == 445
    assert train.inference_batch(torch.zeros(2, 3, 2048, 2048)) == 1             # at least one
    assert train.inference_batch(torch.zeros(2, 10)) == 1024                      # at most 1024
    seed_everything(0)
    net, x = models.DigitNet().eval(), torch.randn(50, 3, 28, 28)
    assert torch.allclose(train.predict(net, x), train.predict(net, x, batch_size=7), atol=1e-6)
