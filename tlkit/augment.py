"""Batch augmentations for small data, on tensors N x C x H x W, every random draw from a given
``torch.Generator`` (same seed, same batch): the reference implementations of lesson 05's exercises.

* Cutout -- DeVries & Taylor 2017, "Improved regularization of convolutional neural networks with cutout":
  a square of each image set to 0.
* Mixup -- Zhang, Cisse, Dauphin & Lopez-Paz 2018, "mixup: Beyond empirical risk minimization" (ICLR):
  ``lam * x_i + (1 - lam) * x_j`` with targets mixed the same way, ``lam ~ Beta(alpha, alpha)``.
* CutMix -- Yun et al. 2019, "CutMix: regularization strategy to train strong classifiers with localizable
  features" (ICCV): a box of the partner image pasted in, targets mixed by the box's area.

``random_resized_crop`` (with a left-right flip) is the standard Inception-style crop, the baseline they are
compared with; ``color_jitter`` is torchvision's ``ColorJitter`` (brightness, contrast, saturation) per image.
``augmented_step`` is the ``tlkit.train.fit`` step function that trains on an augmented batch and its soft targets
(the cross-entropy with soft targets), the reference of lesson 05's exercise of that name.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from scipy.special import betaincinv
from torchvision.transforms import functional as TF


def cutout(x, size, generator):
    """A copy of the batch ``x`` (N x C x H x W) with one ``size`` x ``size`` square per image set to 0.

    Draw order: the centres' rows ``cy = torch.randint(0, H, (N,), generator=generator)``, then their columns
    ``cx = torch.randint(0, W, (N,), generator=generator)``. The square covers rows ``cy - size // 2`` up to (not
    including) ``cy - size // 2 + size`` (columns likewise), clipped at the image borders; every channel. ``x`` is
    not modified.
    """
    n, _, h, w = x.shape
    cy = torch.randint(0, h, (n,), generator=generator).view(n, 1, 1)
    cx = torch.randint(0, w, (n,), generator=generator).view(n, 1, 1)
    rows, cols = torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w)
    top, left = cy - size // 2, cx - size // 2
    inside = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    return x.masked_fill(inside.unsqueeze(1).to(x.device), 0)


def mixup(x, y, alpha, num_classes, generator):
    """Mixup of a batch: ``(lam * x + (1 - lam) * x[perm], lam * onehot(y) + (1 - lam) * onehot(y[perm]))``.

    One ``lam ~ Beta(alpha, alpha)`` and one permutation ``perm`` per batch, in this order: ``lam`` by inverse-CDF
    sampling, ``scipy.special.betaincinv(alpha, alpha, u)`` of ``u = torch.rand((), generator=generator)``, then
    ``perm = torch.randperm(N, generator=generator)``. Soft targets: float N x ``num_classes``. ``x`` is not modified.
    """
    lam = float(betaincinv(alpha, alpha, torch.rand((), generator=generator).item()))
    perm = torch.randperm(len(x), generator=generator).to(x.device)
    onehot = F.one_hot(y, num_classes).float()
    return lam * x + (1 - lam) * x[perm], lam * onehot + (1 - lam) * onehot[perm]


def cutmix(x, y, alpha, num_classes, generator):
    """CutMix of a batch: a box of ``x[perm]`` pasted into every image, targets mixed by the box's actual area.

    Draw order: ``lam`` as in :func:`mixup` (inverse CDF of ``torch.rand((), generator=generator)``), then
    ``perm = torch.randperm(N, generator=generator)``, then the box centre's row ``torch.randint(0, H, (),
    generator=generator)`` and column ``torch.randint(0, W, (), generator=generator)``. The box is
    ``round(H * sqrt(1 - lam))`` x ``round(W * sqrt(1 - lam))`` (area fraction about ``1 - lam``), rows from
    ``cy - box_h // 2`` (columns likewise), clipped at the borders; the same box for the whole batch. ``lam`` is then
    corrected to ``1 - (clipped box area) / (H * W)``; targets ``lam * onehot(y) + (1 - lam) * onehot(y[perm])``.
    ``x`` is not modified.
    """
    n, _, h, w = x.shape
    lam = float(betaincinv(alpha, alpha, torch.rand((), generator=generator).item()))
    perm = torch.randperm(n, generator=generator).to(x.device)
    cy = int(torch.randint(0, h, (), generator=generator))
    cx = int(torch.randint(0, w, (), generator=generator))
    box_h, box_w = round(h * math.sqrt(1 - lam)), round(w * math.sqrt(1 - lam))
    top, bottom = max(cy - box_h // 2, 0), min(cy - box_h // 2 + box_h, h)
    left, right = max(cx - box_w // 2, 0), min(cx - box_w // 2 + box_w, w)
    out = x.clone()
    out[:, :, top:bottom, left:right] = x[perm, :, top:bottom, left:right]
    lam = 1 - (bottom - top) * (right - left) / (h * w)
    onehot = F.one_hot(y, num_classes).float()
    return out, lam * onehot + (1 - lam) * onehot[perm]


def augmented_step(model, batch, progress, augment, generator):
    """A :func:`tlkit.train.fit` step function (bind ``augment`` and ``generator`` with ``functools.partial``):
    ``x_aug, targets = augment(x, y, generator)`` once for the batch ``(x, y)``, ``logits = model(x_aug)``, and the
    cross-entropy with the soft targets ``p``, the batch mean of ``-sum_c p_c * log_softmax(logits)_c`` computed in
    float32 (``logits.float()``). Returns ``(loss, logits, y, {})``: the training accuracy is scored against the
    batch's own labels. ``progress`` is not used."""
    x, y = batch[0], batch[1]
    x_aug, targets = augment(x, y, generator)
    logits = model(x_aug)
    loss = -(targets * F.log_softmax(logits.float(), dim=1)).sum(dim=1).mean()
    return loss, logits, y, {}


def random_resized_crop(x, size: int, generator: torch.Generator, scale=(0.25, 1.0), ratio=(3 / 4, 4 / 3),
                        flip: bool = True) -> torch.Tensor:
    """Inception-style random-resized-crop of every image of ``x`` (N x C x H x W) to ``size`` x ``size``: a box of
    a random area fraction in ``scale`` and aspect ratio in ``ratio`` (log-uniform), at a random place, resized
    (bilinear, antialiased); with ``flip`` each crop mirrored left-right with probability 1/2. A new tensor."""
    n, _, h, w = x.shape
    out = []
    for i in range(n):
        area = float(torch.empty(()).uniform_(*scale, generator=generator)) * h * w
        aspect = math.exp(float(torch.empty(()).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=generator)))
        ch, cw = min(h, max(1, round(math.sqrt(area / aspect)))), min(w, max(1, round(math.sqrt(area * aspect))))
        top = int(torch.randint(0, h - ch + 1, (), generator=generator))
        left = int(torch.randint(0, w - cw + 1, (), generator=generator))
        crop = F.interpolate(x[i : i + 1, :, top : top + ch, left : left + cw], size=(size, size), mode="bilinear",
                             align_corners=False, antialias=True)
        if flip and float(torch.rand((), generator=generator)) < 0.5:
            crop = crop.flip(-1)
        out.append(crop)
    return torch.cat(out)


def color_jitter(x, generator: torch.Generator, brightness=0.4, contrast=0.4, saturation=0.4,
                 mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)) -> torch.Tensor:
    """torchvision's ``ColorJitter(brightness, contrast, saturation)`` applied to every image of the model-input
    batch ``x`` (N x 3 x H x W) on its own, every draw from ``generator``. The defaults, 0.4 each, are timm's
    training default (``color_jitter=0.4``).

    Per image, ColorJitter's draws in its order: ``torch.randperm(4)`` (the order of brightness, contrast,
    saturation and hue, the last unused), then a factor uniform in ``[max(0, 1 - v), 1 + v]`` for each strength
    ``v`` that is not 0. The image is taken back to RGB in [0, 1] (``x * std + mean``; the defaults are the ``tf``
    preset of EfficientNet-Lite), adjusted with ``torchvision.transforms.functional.adjust_*`` (results clipped to
    [0, 1]) and returned in the model's input range. A new tensor: ``x`` is not modified."""
    ranges = [None if v == 0 else (max(0.0, 1 - v), 1 + v) for v in (brightness, contrast, saturation)]
    adjust = (TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation)
    mean, std = (torch.as_tensor(v, dtype=x.dtype, device=x.device).view(3, 1, 1) for v in (mean, std))
    out = []
    for img in x:
        order = torch.randperm(4, generator=generator).tolist()
        factors = [None if r is None else float(torch.empty(1).uniform_(*r, generator=generator)) for r in ranges]
        rgb = img * std + mean
        for i in order:
            if i < 3 and factors[i] is not None:
                rgb = adjust[i](rgb, factors[i])
        out.append((rgb - mean) / std)
    return torch.stack(out)
