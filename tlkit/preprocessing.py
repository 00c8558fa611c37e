"""Input preprocessing presets, the resize / centre-crop every ImageNet model expects, and ``guess_preset``, which
measures a checkpoint's preset. The reference implementations of lesson 01's exercises live here.

A preset maps a float batch ``N x 3 x H x W`` of RGB values in [0, 1] to what a checkpoint was trained on:

=========  ===============================================================
``torch``  (x - ImageNet mean) / ImageNet std          (torchvision, timm)
``tf``     2x - 1, i.e. [-1, 1]                         (TF/Keras "tf" mode, EfficientNet-Lite)
``caffe``  RGB->BGR, 0..255, minus [103.939, 116.779, 123.68]  (Keras ResNet50/VGG)
``raw``    0..255, nothing else                         (Keras EfficientNet rescales inside; elsewhere a bug)
``unit``   0..1, nothing else
=========  ===============================================================
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from PIL import Image

from . import train
from .train import top1_accuracy

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
PRESETS = ("torch", "tf", "caffe", "raw", "unit")
DEFAULT_CROP_PCT = 0.875  # timm's and torchvision's: resize to crop / 0.875 (256 for 224), then centre-crop


def preset_of(model) -> str:
    """The preset a timm-interface checkpoint expects, read from its ``pretrained_cfg`` mean/std."""
    cfg = model.pretrained_cfg
    mean, std = tuple(round(v, 3) for v in cfg["mean"]), tuple(round(v, 3) for v in cfg["std"])
    if mean == std == (0.5, 0.5, 0.5):
        return "tf"
    if mean == tuple(round(v, 3) for v in IMAGENET_MEAN) and std == tuple(round(v, 3) for v in IMAGENET_STD):
        return "torch"
    raise ValueError(f"no preset for mean {cfg['mean']} / std {cfg['std']}")


def to_batch(images: Sequence[np.ndarray]) -> torch.Tensor:
    """HxWx3 uint8 RGB arrays of one size -> float32 tensor N x 3 x H x W in [0, 1]."""
    if len(images) == 0:
        raise ValueError("to_batch needs at least one image")
    arrays = [np.asarray(img) for img in images]
    for i, a in enumerate(arrays):
        if a.ndim != 3 or a.shape[2] != 3:
            raise ValueError(f"image {i} has shape {a.shape}; expected H x W x 3")
        if a.dtype != np.uint8:
            raise ValueError(f"image {i} has dtype {a.dtype}; expected uint8")
        if a.shape != arrays[0].shape:
            raise ValueError(f"image {i} has shape {a.shape} but image 0 has {arrays[0].shape}; resize first")
    x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()   # uint8: the cheap copy to reorder
    return x.float().div_(255.0)


def apply_preset(x: torch.Tensor, preset: str) -> torch.Tensor:
    """RGB batch in [0, 1] -> model input for ``preset`` (see the module docstring)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    if preset == "unit":
        return x.clone()
    if preset == "raw":
        return x * 255.0
    if preset == "tf":
        return x * 2.0 - 1.0
    if preset == "torch":
        mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std
    mean = torch.tensor(CAFFE_BGR_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return x.flip(1) * 255.0 - mean


def digits_as_photos(images, size: int, preset: str) -> torch.Tensor:
    """Digit images (uint8 N x 28 x 28 grey or N x 28 x 28 x 3) as an ImageNet model's input: 3 channels, resized
    bilinearly to ``size`` x ``size``, in ``preset``."""
    from .data import digit_inputs

    x = torch.nn.functional.interpolate(digit_inputs(images), size=size, mode="bilinear", align_corners=False)
    return apply_preset(x, preset)


def resize_center_crop(img: Image.Image, size: int = 256, crop: int = 224) -> Image.Image:
    """Shorter side to ``size`` (aspect kept, bilinear), then the central ``crop`` x ``crop`` square."""
    if crop > size:
        raise ValueError(f"crop ({crop}) must not exceed size ({size})")
    w, h = img.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - crop) // 2, (nh - crop) // 2
    return img.crop((left, top, left + crop, top + crop))


def load_images(paths, size: int | None = None, crop: int = 224,
                crop_pct: float = DEFAULT_CROP_PCT) -> list[np.ndarray]:
    """Read image files as RGB, resize + centre-crop each; a list of crop x crop x 3 uint8 arrays.

    The shorter side goes to ``size``, by default ``round(crop / crop_pct)`` as timm does (256 for 224).
    """
    size = size or round(crop / crop_pct)
    out = []
    for p in paths:
        with Image.open(p) as img:
            out.append(np.asarray(resize_center_crop(img.convert("RGB"), size, crop)))
    return out


def preprocess(images: Sequence[np.ndarray], preset: str, chunk: int = 32) -> torch.Tensor:
    """uint8 RGB images -> model input batch for ``preset``, converted ``chunk`` images at a time into the output (one
    whole-batch ``apply_preset(to_batch(images), preset)`` holds up to three float copies of the batch at once)."""
    first = apply_preset(to_batch(images[:chunk]), preset)   # to_batch checks these images
    for i in range(chunk, len(images)):                      # and here the others against image 0
        a = np.asarray(images[i])
        if a.shape != np.shape(images[0]) or a.dtype != np.uint8:
            raise ValueError(f"image {i} has shape {a.shape} and dtype {a.dtype}; image 0: {np.shape(images[0])} uint8")
    out = torch.empty((len(images), *first.shape[1:]), dtype=first.dtype)
    out[:chunk] = first
    for i in range(chunk, len(images), chunk):
        out[i : i + chunk] = apply_preset(to_batch(images[i : i + chunk]), preset)
    return out


def load_for(model, paths, crop: int | None = None) -> torch.Tensor:
    """Image files -> the input batch ``model``'s checkpoint expects: its ``pretrained_cfg`` gives the crop_pct,
    the preset and (unless ``crop`` is given) the input size."""
    cfg = model.pretrained_cfg
    crop = crop or cfg["input_size"][-1]
    return preprocess(load_images(paths, crop=crop, crop_pct=cfg.get("crop_pct", DEFAULT_CROP_PCT)), preset_of(model))


def guess_preset(model, images, labels) -> str:
    """The preset (a name from ``PRESETS``) under which ``model`` scores best on the labelled ``images`` (uint8 RGB
    arrays of one size): a measurement, for checkpoints whose documentation (or ``pretrained_cfg``) may be wrong."""
    x = to_batch(images)
    scores = {preset: top1_accuracy(train.predict(model, apply_preset(x, preset)), labels) for preset in PRESETS}
    return max(PRESETS, key=scores.get)
