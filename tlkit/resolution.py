"""Feeding a network images of another size than it was trained on: three ways to bring a photo to a square
input (resize + centre crop, squash, pad), the compute an input size costs, a ViT's absolute position
embeddings resized to a new patch grid (the reference of lesson 05's ``resize_pos_embed``), and the test resolution
at which objects look as large as in random-resized-crop training (lesson 05's ``fixres_test_res``).

Background: Touvron, Vedaldi, Douze & Jegou 2019, "Fixing the train-test resolution discrepancy" (NeurIPS).
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .model_choice import flops
from .preprocessing import DEFAULT_CROP_PCT, resize_center_crop
from .runtime import model_device, to_device
from .train import inference_batch, predict

POLICIES = ("crop", "squash", "pad")
PAD_VALUE = (128, 128, 128)  # mid-grey: about 0 after any of tlkit's presets, i.e. "no signal"


def to_square(img: Image.Image, size: int, policy: str = "crop", crop_pct: float = DEFAULT_CROP_PCT) -> Image.Image:
    """A ``size`` x ``size`` RGB version of ``img``:

    * ``crop``: shorter side to ``round(size / crop_pct)``, then the central square (timm's evaluation transform);
    * ``squash``: the whole photo resized to the square, aspect ratio ignored;
    * ``pad``: longer side to ``size`` (aspect kept), centred on a mid-grey square.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    img = img.convert("RGB")
    if policy == "crop":
        return resize_center_crop(img, round(size / crop_pct), size)
    if policy == "squash":
        return img.resize((size, size), Image.BILINEAR)
    w, h = img.size
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = Image.new("RGB", (size, size), PAD_VALUE)
    canvas.paste(img.resize((nw, nh), Image.BILINEAR), ((size - nw) // 2, (size - nh) // 2))
    return canvas


def load_square(paths, size: int, policy: str = "crop", crop_pct: float = DEFAULT_CROP_PCT) -> list[np.ndarray]:
    """Image files as ``size`` x ``size`` x 3 uint8 arrays under ``policy`` (see :func:`to_square`)."""
    out = []
    for p in paths:
        with Image.open(p) as img:
            out.append(np.asarray(to_square(img, size, policy, crop_pct)))
    return out


def flops_per_image(model: torch.nn.Module, size: int) -> float:
    """Floating-point operations of one forward pass of ``model`` on one 3 x ``size`` x ``size`` image
    (:func:`tlkit.model_choice.flops`: convolutions and matrix products; a multiply-add is 2)."""
    return float(flops(model, to_device(torch.zeros(1, 3, size, size), model_device(model))))


@torch.no_grad()
def timed_predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int | None = None) -> tuple[torch.Tensor, float]:
    """``model``'s logits on ``x`` in eval mode (float32, CPU) and the wall time per image in milliseconds (one
    warm-up batch first, not timed; CUDA synchronised). Default batch: ``inference_batch(x)``."""
    batch_size = batch_size or inference_batch(x)
    predict(model, x[:batch_size], batch_size)
    dev = model_device(model)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    start = time.perf_counter()
    logits = predict(model, x, batch_size)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    return logits, 1000 * (time.perf_counter() - start) / len(x)


def resize_pos_embed(pos_embed, old_grid, new_grid, num_prefix_tokens=1):
    """A ViT's absolute position embeddings (1 x (prefix + old_h * old_w) x D) for a new patch grid: the grid part,
    row-major (old_h, old_w), resized to (new_h, new_w) by bicubic interpolation (``align_corners=False``,
    ``antialias=True``, in float32, as timm's ``resample_abs_pos_embed``); the ``num_prefix_tokens`` leading tokens
    (class, distillation, registers) kept unchanged. Grids are ``(h, w)`` pairs or one int for a square.
    Returns 1 x (prefix + new_h * new_w) x D in ``pos_embed``'s dtype."""
    old_h, old_w = (old_grid, old_grid) if isinstance(old_grid, int) else old_grid
    new_h, new_w = (new_grid, new_grid) if isinstance(new_grid, int) else new_grid
    prefix, grid = pos_embed[:, :num_prefix_tokens], pos_embed[:, num_prefix_tokens:]
    if grid.shape[1] != old_h * old_w:
        raise ValueError(f"{grid.shape[1]} grid tokens, but old_grid {old_h} x {old_w} = {old_h * old_w}")
    dim = grid.shape[-1]
    grid = grid.float().reshape(len(pos_embed), old_h, old_w, dim).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(new_h, new_w), mode="bicubic", align_corners=False, antialias=True)
    grid = grid.permute(0, 2, 3, 1).reshape(len(pos_embed), new_h * new_w, dim).to(pos_embed.dtype)
    return torch.cat([prefix, grid], dim=1)


def fixres_test_res(train_res, scale=(0.08, 1.0), crop_pct=0.875, aspect=1.0):
    """Touvron et al.'s train-test size match: the test resolution at which resize + centre crop (shorter side to
    ``test_res / crop_pct``) magnifies objects as much as random-resized-crop training does on average.

    Training cuts a box of area ``s * H * W`` (``s`` uniform on ``scale = (lo, hi)``) and resizes it to
    ``train_res``: magnification ``train_res / sqrt(s * aspect) / m`` for a photo of shorter side ``m`` and aspect
    ratio ``aspect`` (longer / shorter side). Equating the test magnification ``test_res / (crop_pct * m)`` with its
    mean over ``s``, ``E[s ** -0.5] = 2 (sqrt(hi) - sqrt(lo)) / (hi - lo)`` (``1 / sqrt(lo)`` when ``lo == hi``),
    gives ``crop_pct * train_res * E[s ** -0.5] / sqrt(aspect)``: a float, not rounded.
    """
    lo, hi = scale
    if hi == lo:
        mean_inv_sqrt = 1 / math.sqrt(lo)
    else:
        mean_inv_sqrt = 2 * (math.sqrt(hi) - math.sqrt(lo)) / (hi - lo)
    return float(crop_pct * train_res * mean_inv_sqrt / math.sqrt(aspect))
