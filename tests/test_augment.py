"""tlkit.augment: cutout, mixup, cutmix, the augmented training step, random-resized-crop and colour jitter (fast unit
tests)."""
import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import betaincinv
from torch.nn import functional as F
from torchvision.transforms import ColorJitter

from tlkit.augment import (
    augmented_step,
    color_jitter,
    cutmix,
    cutout,
    mixup,
    random_resized_crop,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors (tests/conftest.py)


def test_cutout_zeroes_one_clipped_square_per_image_and_keeps_the_input():
    x = torch.rand(6, 3, 10, 12) + 0.5
    before = x.clone()
    g = torch.Generator().manual_seed(7)
    out = cutout(x, 5, g)
    assert torch.equal(x, before)
    g = torch.Generator().manual_seed(7)
    cy, cx = torch.randint(0, 10, (6,), generator=g), torch.randint(0, 12, (6,), generator=g)
    expected = x.clone()
    for i in range(6):
        t, l = int(cy[i]) - 2, int(cx[i]) - 2
        expected[i, :, max(t, 0) : t + 5, max(l, 0) : l + 5] = 0
    assert torch.equal(out, expected)


def test_cutout_centres_cover_the_whole_image():
    g = torch.Generator().manual_seed(0)
    areas = [int((o[0] == 0).sum()) for _ in range(100) for o in cutout(torch.ones(6, 1, 10, 12), 5, g)]
    full = np.mean([a == 25 for a in areas])
    assert 0.3 < full < 0.5  # (6/10) * (8/12) of the squares lie fully inside, the rest are clipped
    assert min(areas) < 25 and max(areas) == 25


def _lam_and_perm(g, alpha, n):
    lam = float(betaincinv(alpha, alpha, torch.rand((), generator=g).item()))
    return lam, torch.randperm(n, generator=g)


def test_mixup_follows_the_documented_draws():
    x, y = torch.randn(6, 3, 4, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    before = x.clone()
    xm, t = mixup(x, y, 0.4, 3, torch.Generator().manual_seed(9))
    assert torch.equal(x, before)
    lam, perm = _lam_and_perm(torch.Generator().manual_seed(9), 0.4, 6)
    onehot = F.one_hot(y, 3).float()
    assert torch.allclose(xm, lam * x + (1 - lam) * x[perm]) and torch.allclose(t, lam * onehot + (1 - lam) * onehot[perm])


def test_mixup_lambda_is_beta_distributed():
    g = torch.Generator().manual_seed(0)
    lams = []
    for _ in range(300):
        _, t = mixup(torch.zeros(2, 1, 1, 1), torch.tensor([0, 1]), 0.4, 2, g)
        if t[0, 0] < 1:  # the partner is the other image
            lams.append(float(t[0, 0]))
    assert stats.kstest(lams, stats.beta(0.4, 0.4).cdf).statistic < 0.12


def test_cutmix_pastes_one_clipped_box_and_corrects_lambda():
    x, y = torch.rand(4, 3, 10, 14), torch.tensor([0, 1, 1, 0])
    before = x.clone()
    out, t = cutmix(x, y, 1.0, 2, torch.Generator().manual_seed(11))
    assert torch.equal(x, before)
    g = torch.Generator().manual_seed(11)
    lam, perm = _lam_and_perm(g, 1.0, 4)
    cy, cx = int(torch.randint(0, 10, (), generator=g)), int(torch.randint(0, 14, (), generator=g))
    bh, bw = round(10 * math.sqrt(1 - lam)), round(14 * math.sqrt(1 - lam))
    t0, t1, l0, l1 = max(cy - bh // 2, 0), min(cy - bh // 2 + bh, 10), max(cx - bw // 2, 0), min(cx - bw // 2 + bw, 14)
    expected = x.clone()
    expected[:, :, t0:t1, l0:l1] = x[perm, :, t0:t1, l0:l1]
    assert torch.equal(out, expected)
    lam = 1 - (t1 - t0) * (l1 - l0) / 140
    onehot = F.one_hot(y, 2).float()
    assert torch.allclose(t, lam * onehot + (1 - lam) * onehot[perm])


def test_cutmix_targets_match_the_pasted_area():
    g = torch.Generator().manual_seed(1)
    for _ in range(50):
        x = torch.rand(5, 1, 8, 8) + torch.arange(5).view(5, 1, 1, 1)
        out, t = cutmix(x, torch.arange(5), 1.0, 5, g)
        moved = (out != x).any(1)
        for i in range(5):
            if t[i, i] < 1:
                assert abs(float(t[i, i]) - (1 - moved[i].sum().item() / 64)) < 1e-6


def test_augmented_step_trains_on_the_soft_targets_of_the_augmented_batch():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])

    def augment(x, y, g):
        return x + torch.randn(x.shape, generator=g), torch.rand(len(x), 3, generator=g).softmax(1)

    loss, logits, labels, metrics = augmented_step(model, (x, y), 0.0, augment, torch.Generator().manual_seed(3))
    x_aug, p = augment(x, y, torch.Generator().manual_seed(3))
    assert torch.allclose(logits, model(x_aug)) and labels is y and metrics == {}
    assert torch.allclose(loss, F.cross_entropy(model(x_aug), p), atol=1e-6)
    onehot = augmented_step(model, (x, y), 0.0, lambda x, y, g: (x, F.one_hot(y, 3).float()), None)[0]
    assert torch.allclose(onehot, F.cross_entropy(model(x), y), atol=1e-6)
    big = torch.nn.Linear(1, 3, bias=False)
    big.weight.data = torch.tensor([[1000.0], [0.0], [-1000.0]])
    half = augmented_step(big, (torch.ones(1, 1), torch.tensor([1])), 0.0,
                          lambda x, y, g: (x, torch.tensor([[0.0, 0.5, 0.5]])), None)[0]
    assert abs(half.item() - 1500.0) < 1e-2   # log_softmax: finite where log(softmax) is -inf


def test_random_resized_crop_is_seeded_and_keeps_the_input():
    x = torch.rand(3, 3, 20, 24)
    before = x.clone()
    a = random_resized_crop(x, 16, torch.Generator().manual_seed(0))
    b = random_resized_crop(x, 16, torch.Generator().manual_seed(0))
    assert a.shape == (3, 3, 16, 16) and torch.equal(a, b) and torch.equal(x, before)
    whole = random_resized_crop(x, 20, torch.Generator().manual_seed(0), scale=(1.0, 1.0), ratio=(1.0, 1.0), flip=False)
    assert whole.shape == (3, 3, 20, 20)


def test_color_jitter_is_torchvisions_color_jitter_per_image_with_the_generators_draws():
    rgb = torch.rand(4, 3, 9, 7)

    def torchvision_jitter(seed):                          # ColorJitter draws from the global generator, image by image
        torch.manual_seed(seed)
        jitter = ColorJitter(brightness=0.4, contrast=0.3, saturation=0.5)
        return torch.stack([jitter(img) for img in rgb])

    x = rgb * 2 - 1                                       # the tf preset (the default): model inputs in [-1, 1]
    before = x.clone()
    out = color_jitter(x, torch.Generator().manual_seed(5), brightness=0.4, contrast=0.3, saturation=0.5)
    assert torch.equal(x, before)
    assert torch.allclose(out, torchvision_jitter(5) * 2 - 1, atol=1e-5)
    mean, std = torch.tensor((0.485, 0.456, 0.406)).view(3, 1, 1), torch.tensor((0.229, 0.224, 0.225)).view(3, 1, 1)
    out = color_jitter((rgb - mean) / std, torch.Generator().manual_seed(5), 0.4, 0.3, 0.5, mean=mean, std=std)
    assert torch.allclose(out * std + mean, torchvision_jitter(5), atol=1e-5), "the torch preset: the same jitter in RGB"
    same = color_jitter(x[:1].expand(6, -1, -1, -1), torch.Generator().manual_seed(0))
    assert all(not torch.allclose(same[0], s) for s in same[1:]), "each image gets its own factors"
    assert torch.allclose(color_jitter(x, torch.Generator(), 0, 0, 0), x, atol=1e-6), "strength 0: unchanged"
