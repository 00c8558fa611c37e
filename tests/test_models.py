"""tlkit.models: every model (and the tlkit wrappers) through timm's backbone interface; the real weights."""
import pytest
import torch

from tlkit import data, models, preprocessing as pp, train
from tlkit.dann import DANN
from tlkit.forgetting import TwoHeads

BACKBONES = {"DigitNet": (lambda n: models.DigitNet(num_classes=n), (2, 3, 28, 28)),
             "EfficientNet-Lite0": (lambda n: models.efficientnet_lite0(pretrained=False, num_classes=n), (2, 3, 64, 64))}


@pytest.mark.parametrize("name", BACKBONES)
def test_backbone_interface(name):
    make, shape = BACKBONES[name]
    model = make(5).eval()
    x = torch.randn(shape)
    maps = model.forward_features(x)
    f = model.forward_head(maps, pre_logits=True)
    assert f.shape == (2, model.num_features)
    assert torch.allclose(model.forward_head(maps), model(x), atol=1e-5)
    assert torch.allclose(model.get_classifier()(f), model(x), atol=1e-5)
    assert torch.allclose(models.pooled_features(model, x), f)
    model.reset_classifier(3)
    assert model(x).shape == (2, 3)
    for wrapper in (DANN(make(4)), TwoHeads(make(1000), 4)):
        wrapper.eval()
        assert wrapper(x).shape == (2, 4) and wrapper.num_features == model.num_features
        wf = models.pooled_features(wrapper, x)
        assert torch.allclose(wrapper.get_classifier()(wf), wrapper(x), atol=1e-5)
        assert train.features(wrapper, x).shape == (2, model.num_features)


def test_efficientnet_lite0_is_the_real_imagenet_model():
    model = models.efficientnet_lite0().eval()
    assert pp.preset_of(model) == "tf" and model.pretrained_cfg["crop_pct"] == 0.875
    assert not hasattr(model, "preset"), "one source of truth: pretrained_cfg"
    paths, labels = data.imagenet_samples()
    pick = data.subset(16, 1000, seed=3)
    x = pp.load_for(model, [paths[i] for i in pick])
    assert x.shape == (16, 3, 224, 224) and x.min() >= -1 and x.max() <= 1
    acc = train.top1_accuracy(train.predict(model, x, batch_size=16), labels[pick])
    assert acc >= 0.5, f"pretrained weights not loaded? top-1 {acc}"
    head = models.efficientnet_lite0(num_classes=2)
    assert head.classifier.out_features == 2
    assert len(models.efficientnet_stages(head)) == 9


@pytest.mark.parametrize("variant, px, crop_pct", [(0, 224, 0.875), (1, 240, 0.882), (2, 260, 0.890)])
def test_efficientnet_lite_variants_are_the_real_imagenet_models(variant, px, crop_pct):
    """Each checkpoint loads (offline, in order) into timm's architecture: top-1 on 50 ImageNet sample photos far above
    chance (1/1000) at its native size and [-1, 1] inputs; a wrong load order or preset would score near zero."""
    model = models.efficientnet_lite(variant).eval()
    cfg = model.pretrained_cfg
    assert pp.preset_of(model) == "tf" and cfg["input_size"] == (3, px, px) and cfg["crop_pct"] == crop_pct
    paths, labels = data.imagenet_samples()
    pick = data.subset(50, 1000, seed=5)
    x = pp.load_for(model, [paths[i] for i in pick])
    assert x.shape == (50, 3, px, px)
    acc = train.top1_accuracy(train.predict(model, x, batch_size=25), labels[pick])
    assert acc >= 0.6, f"EfficientNet-Lite{variant}: top-1 {acc} on 50 photos"
    fresh = models.efficientnet_lite(variant, pretrained=False, num_classes=2)
    assert fresh.classifier.out_features == 2 and fresh.pretrained_cfg["input_size"] == (3, px, px)
    assert sum(p.numel() for p in fresh.parameters()) < sum(p.numel() for p in model.parameters())


def test_efficientnet_lite0_is_efficientnet_lite_variant_0():
    a, b = models.efficientnet_lite0(), models.efficientnet_lite(0)
    assert a.pretrained_cfg == b.pretrained_cfg
    assert all(torch.equal(u, v) for u, v in zip(a.state_dict().values(), b.state_dict().values()))
    with pytest.raises(ValueError, match="variant"):
        models.efficientnet_lite(3)


def test_stage_features_pools_every_stage_in_one_pass():
    """One pooled vector per stage (stem, 7 block groups, head conv), batch-independent, hooks removed afterwards."""
    model = models.efficientnet_lite0(pretrained=False).eval()
    x = torch.randn(5, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    feats = models.stage_features(model, x, batch_size=2)
    assert len(feats) == 9 and all(f.shape[0] == 5 for f in feats)
    assert feats[-1].shape[1] == model.num_features and feats[0].shape[1] == model.conv_stem.out_channels
    with torch.no_grad():
        pooled = model.forward_features(x).mean((2, 3))
    assert torch.allclose(feats[-1], pooled, atol=1e-5), "the head conv stage is the model's pooled features"
    assert torch.allclose(models.stage_features(model, x, batch_size=5)[4], feats[4], atol=1e-5)
    assert not any(m._forward_hooks for m in model.modules()), "hooks left behind"
