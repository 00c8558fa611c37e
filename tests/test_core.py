"""tlkit core: profiles, data, preprocessing, models, training loop."""
import numpy as np
import pytest
import torch
from PIL import Image

from tlkit import data, models, preprocessing as pp, profile, train


def test_profile_choice(monkeypatch):
    monkeypatch.delenv("TLKIT_PROFILE", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert profile.current() == ("full" if torch.cuda.is_available() else "quick")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert profile.current() == "grade" and profile.pick(quick=1, full=2, grade=3) == 3
    monkeypatch.setenv("TLKIT_PROFILE", "full")
    assert profile.pick(quick=1, full=2, grade=3) == 2
    monkeypatch.setenv("TLKIT_PROFILE", "fast")
    with pytest.raises(ValueError, match="quick"):
        profile.current()


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
    # |patch - 255*(digit>0)| without uint8 wrap-around
    out = data.blend_mnist_m(np.array([[[0, 1]]], np.uint8), np.full((1, 1, 2, 3), 10, np.uint8))
    assert out[0, 0, 0].tolist() == [10, 10, 10] and out[0, 0, 1].tolist() == [245, 245, 245]


def test_photo_sets():
    paths, labels = data.imagenet_samples()
    names = data.imagenet_class_names()
    assert len(paths) == 1000 and sorted(labels.tolist()) == list(range(1000)) and len(names) == 1000
    assert names[0] == "tench" and names[labels[1]] in paths[1].name.replace("_", " ")
    for split, n, bees in (("train", 244, 121), ("val", 153, 83)):
        p, y = data.hymenoptera(split)
        assert len(p) == n and y.sum() == bees and all(q.exists() for q in p)


def test_presets_and_crop():
    x = torch.rand(2, 3, 5, 5)
    assert torch.allclose(pp.apply_preset(x, "tf"), 2 * x - 1)
    assert torch.allclose(pp.apply_preset(x, "caffe")[:, 0], x[:, 2] * 255 - 103.939, atol=1e-4)
    with pytest.raises(ValueError, match="torch"):
        pp.apply_preset(x, "bgr")
    assert pp.resize_center_crop(Image.new("RGB", (500, 300))).size == (224, 224)
    batch = pp.to_batch(pp.load_images(data.hymenoptera("val")[0][:3], 64, 56))
    assert batch.shape == (3, 3, 56, 56) and 0 <= batch.min() and batch.max() <= 1
    with pytest.raises(ValueError):
        pp.to_batch([np.zeros((4, 4, 3), np.float32)])


def test_efficientnet_lite0_is_the_real_imagenet_model():
    model = models.efficientnet_lite0().eval()
    assert model.preset == "tf" and model.pretrained_cfg["mean"] == (0.5, 0.5, 0.5)
    paths, labels = data.imagenet_samples()
    pick = data.subset(16, 1000, seed=3)
    x = pp.preprocess(pp.load_images([paths[i] for i in pick]), "tf")
    acc = train.accuracy(train.predict(model, x, batch_size=16), labels[pick])
    assert acc >= 0.5, f"pretrained weights not loaded? top-1 {acc}"
    head = models.efficientnet_lite0(num_classes=2)
    assert head.classifier.out_features == 2
    assert len(models.efficientnet_stages(head)) == 9


def test_fit_learns_and_reports():
    train.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 3, 28, 28, generator=g)
    y = (x[:, 0].mean((1, 2)) > 0).long()
    model = train.prepare(models.DigitNet(num_classes=2))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    hist = train.fit(model, data.loader(x, y, 32, shuffle=True), opt, epochs=3,
                     val_loader=data.loader(x, y, 64), progress=False)
    assert set(hist) == {"train_loss", "train_acc", "seconds", "val_loss", "val_acc"}
    assert all(len(v) == 3 for v in hist.values())
    assert hist["train_loss"][-1] < hist["train_loss"][0] and hist["val_acc"][-1] > 0.8
    model.train()
    logits = train.predict(model, x[:10])
    assert logits.shape == (10, 2) and model.training  # predict restores the mode
