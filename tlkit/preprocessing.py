"""Input preprocessing presets and the resize / centre-crop every ImageNet model expects.

A preset maps a float batch ``N x 3 x H x W`` of RGB values in [0, 1] to what a checkpoint was trained on:

=========  ===============================================================
``torch``  (x - ImageNet mean) / ImageNet std          (torchvision, timm)
``tf``     2x - 1, i.e. [-1, 1]                         (TF/Keras "tf" mode, EfficientNet-Lite)
``caffe``  RGB->BGR, 0..255, minus [103.939, 116.779, 123.68]  (Keras ResNet50/VGG)
``raw``    0..255, nothing else                         (the classic bug)
``unit``   0..1, nothing else
=========  ===============================================================
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
PRESETS = ("torch", "tf", "caffe", "raw", "unit")


def to_batch(images: Sequence[np.ndarray]) -> torch.Tensor:
    """HxWx3 uint8 RGB arrays of one size -> float32 tensor N x 3 x H x W in [0, 1]."""
    if len(images) == 0:
        raise ValueError("to_batch needs at least one image")
    shape = None
    for i, img in enumerate(images):
        img = np.asarray(img)
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"image {i} has shape {img.shape}; expected H x W x 3")
        if img.dtype != np.uint8:
            raise ValueError(f"image {i} has dtype {img.dtype}; expected uint8")
        if shape is not None and img.shape != shape:
            raise ValueError(f"image {i} has shape {img.shape}, image 0 has {shape}; resize first")
        shape = img.shape
    x = torch.from_numpy(np.stack([np.asarray(i) for i in images]))
    return x.permute(0, 3, 1, 2).float().div_(255.0).contiguous()


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


def load_images(paths, size: int = 256, crop: int = 224) -> list[np.ndarray]:
    """Read image files as RGB, resize + centre-crop each; a list of crop x crop x 3 uint8 arrays."""
    out = []
    for p in paths:
        with Image.open(p) as img:
            out.append(np.asarray(resize_center_crop(img.convert("RGB"), size, crop)))
    return out


def preprocess(images: Sequence[np.ndarray], preset: str) -> torch.Tensor:
    """uint8 RGB images -> model input batch for ``preset``."""
    return apply_preset(to_batch(images), preset)
