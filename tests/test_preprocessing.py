"""tlkit.preprocessing: to_batch, the presets, resize + centre-crop by crop_pct, pretrained_cfg, guess_preset."""
import copy

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from torch import nn

from tlkit import data, models, preprocessing as pp


def test_to_batch_layout_values_and_errors():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (3, 7, 3), dtype=np.uint8)
    x = pp.to_batch([img, np.full((3, 7, 3), 255, np.uint8)])
    assert x.dtype == torch.float32 and tuple(x.shape) == (2, 3, 3, 7) and x.is_contiguous()
    assert torch.allclose(x[0], torch.from_numpy(img).permute(2, 0, 1).float() / 255.0)
    assert x[1].min().item() == 1.0  # 255 -> exactly 1
    for bad in ([], [np.zeros((4, 4), np.uint8)], [np.zeros((4, 4, 4), np.uint8)], [np.zeros((4, 4, 3), np.float32)],
                [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8)]):
        with pytest.raises(ValueError):
            pp.to_batch(bad)


def test_presets():
    x = torch.rand(2, 3, 5, 5)
    x0 = x.clone()
    assert torch.allclose(pp.apply_preset(x, "tf"), 2 * x - 1)
    assert torch.allclose(pp.apply_preset(x, "raw"), 255 * x)
    mean, std = torch.tensor(pp.IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(pp.IMAGENET_STD).view(1, 3, 1, 1)
    assert torch.allclose(pp.apply_preset(x, "torch"), (x - mean) / std, atol=1e-5)
    assert torch.allclose(pp.apply_preset(x, "caffe")[:, 0], x[:, 2] * 255 - 103.939, atol=1e-4)  # BGR, 0..255
    unit = pp.apply_preset(x, "unit")
    assert torch.equal(unit, x) and unit is not x
    assert torch.equal(x, x0)  # nothing in place
    with pytest.raises(ValueError, match="torch"):
        pp.apply_preset(x, "bgr")
    assert torch.equal(pp.preprocess([np.full((2, 2, 3), 255, np.uint8)], "tf"), torch.ones(1, 3, 2, 2))


def test_resize_center_crop():
    assert pp.resize_center_crop(Image.new("RGB", (500, 300))).size == (224, 224)
    wide = np.zeros((100, 300, 3), np.uint8)
    wide[:, 100:200, 1] = 255  # green middle third: a central, aspect-keeping crop sees only green
    out = np.asarray(pp.resize_center_crop(Image.fromarray(wide), 50, 50))
    assert out.shape == (50, 50, 3) and out[:, 1:-1, 1].min() > 250 and out[..., 0].max() == out[..., 2].max() == 0
    with pytest.raises(ValueError):
        pp.resize_center_crop(Image.new("RGB", (100, 100)), 64, 80)


def test_load_images_sizes_by_crop_pct():
    paths = data.hymenoptera("val")[0][:3]
    batch = pp.to_batch(pp.load_images(paths, 64, 56))
    assert batch.shape == (3, 3, 56, 56) and 0 <= batch.min() and batch.max() <= 1
    # default: shorter side to round(crop / crop_pct), as timm does (256 for 224 at 0.875)
    with Image.open(paths[0]) as img:
        expected = np.asarray(pp.resize_center_crop(img.convert("RGB"), 256, 224))
        full = np.asarray(pp.resize_center_crop(img.convert("RGB"), 160, 160))
    assert np.array_equal(pp.load_images(paths[:1])[0], expected)
    assert np.array_equal(pp.load_images(paths[:1], crop=160, crop_pct=1.0)[0], full)


def test_preset_of_reads_pretrained_cfg():
    model = models.efficientnet_lite0(pretrained=False)
    assert pp.preset_of(model) == "tf"
    timm_default = copy.copy(model)
    timm_default.pretrained_cfg = timm.models.get_pretrained_cfg("efficientnet_lite0").to_dict()
    assert pp.preset_of(timm_default) == "torch"
    timm_default.pretrained_cfg = {**timm_default.pretrained_cfg, "mean": (0.1, 0.2, 0.3)}
    with pytest.raises(ValueError):
        pp.preset_of(timm_default)


def test_load_for_follows_the_cfg():
    model = models.efficientnet_lite0(pretrained=False)
    paths = data.hymenoptera("val")[0][:2]
    x = pp.load_for(model, paths)
    assert torch.equal(x, pp.preprocess(pp.load_images(paths, crop=224, crop_pct=0.875), "tf"))
    model.pretrained_cfg = {**model.pretrained_cfg, "crop_pct": 1.0}
    assert torch.equal(pp.load_for(model, paths, crop=96), pp.preprocess(pp.load_images(paths, 96, 96), "tf"))


class _Brightness(nn.Module):
    """Reads a label off the mean input value: right only where the input lies near ``centres``; useless in train mode
    (like a network whose BatchNorm and dropout are live)."""

    def __init__(self, centres, cfg_preset="torch"):
        super().__init__()
        self.centres = centres
        mean = (0.5,) * 3 if cfg_preset == "tf" else pp.IMAGENET_MEAN
        std = (0.5,) * 3 if cfg_preset == "tf" else pp.IMAGENET_STD
        self.pretrained_cfg = {"mean": mean, "std": std}  # what the (possibly wrong) documentation says

    def forward(self, x):
        m = x.mean(dim=(1, 2, 3))
        logits = torch.stack([-(m - c).abs() for c in self.centres], dim=1)
        return torch.zeros_like(logits) if self.training else logits


def _levels(*values):
    return [np.full((8, 8, 3), v, np.uint8) for v in values]


def test_guess_preset_measures_instead_of_reading_the_cfg():
    # trained on [-1, 1] input while its cfg says torch mean/std: only a measurement says 'tf'
    # (these four grey levels are all right only in [-1, 1]; torch's mean/std gets two of them)
    liar = _Brightness(centres=(-0.8, 0.0, 0.8), cfg_preset="torch").train()
    assert pp.preset_of(liar) == "torch"
    assert pp.guess_preset(liar, _levels(25, 90, 160, 230), [0, 1, 1, 2]) == "tf"
    assert liar.training  # the mode is restored...
    unit = _Brightness(centres=(0.1, 0.5, 0.9), cfg_preset="tf")
    assert pp.guess_preset(unit, _levels(25, 128, 230, 20, 120), [0, 1, 2, 0, 1]) == "unit"
    evaluated = unit.eval()
    pp.guess_preset(evaluated, _levels(25, 128), [0, 1])
    assert not evaluated.training  # ...either way


class _Expects(nn.Module):
    """The real network behind a front end that wants ``wants`` input; its cfg is the inner network's ('tf')."""

    def __init__(self, inner, wants):
        super().__init__()
        self.inner, self.wants, self.pretrained_cfg = inner, wants, dict(inner.pretrained_cfg)

    def forward(self, x):
        mean = torch.tensor(pp.CAFFE_BGR_MEAN).view(1, 3, 1, 1)
        rgb = (x + mean).flip(1) / 255 if self.wants == "caffe" else x / 255
        return self.inner(rgb * 2 - 1)


def test_guess_preset_on_the_real_checkpoint():
    paths, labels = data.imagenet_samples()
    pick = data.subset(24, len(paths), seed=123)
    images, y = pp.load_images([paths[i] for i in pick], crop=160), labels[pick]
    base = models.efficientnet_lite0(pretrained=True).eval()
    assert pp.guess_preset(base, images, y) == pp.preset_of(base) == "tf"
    assert pp.guess_preset(_Expects(base, "caffe"), images, y) == "caffe"
    assert pp.guess_preset(_Expects(base, "raw"), images, y) == "raw"


def test_preprocess_in_chunks_equals_the_whole_batch():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (9, 11, 3), dtype=np.uint8) for _ in range(70)]
    for preset in pp.PRESETS:
        assert torch.equal(pp.preprocess(images, preset), pp.apply_preset(pp.to_batch(images), preset))
        assert torch.equal(pp.preprocess(images[:3], preset), pp.apply_preset(pp.to_batch(images[:3]), preset))
    with pytest.raises(ValueError, match="image 40 has shape"):          # the index in the whole list, not a chunk's
        pp.preprocess(images[:40] + [images[0][:5]], "tf")
    with pytest.raises(ValueError, match="at least one"):
        pp.preprocess([], "tf")


def test_digits_as_photos():
    """Grey or colour 28 px digits -> 3 x size x size in the preset (tf: [-1, 1]), the digit's ink kept."""
    grey = np.zeros((2, 28, 28), np.uint8)
    grey[:, 10:18, 12:16] = 255
    x = pp.digits_as_photos(grey, 64, "tf")
    assert x.shape == (2, 3, 64, 64) and x.min() >= -1 and x.max() <= 1
    assert x[0, :, 32, 32].min() > 0.9 and x[0, :, 2, 2].max() < -0.9, "ink at the centre, background at the corner"
    colour = np.repeat(grey[..., None], 3, axis=3)
    assert torch.equal(pp.digits_as_photos(colour, 64, "tf"), x), "grey and its 3-channel copy give the same input"
