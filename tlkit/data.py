"""Offline datasets shipped inside the package (origins and licences in DATA.md). Nothing downloads.

Digit sets come as uint8 arrays (MNIST polarity: 0 = background, 255 = ink) with int64 labels; photo sets
come as lists of file paths with int64 labels, to be read with ``tlkit.preprocessing.load_images``.
"""
from __future__ import annotations

import io
import lzma
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ASSETS = Path(__file__).resolve().parent / "assets"
HYMENOPTERA_CLASSES = ("ants", "bees")
MNIST_M_SEED = 20161001  # fixed: every user gets the same MNIST-M


def _split(split: str) -> str:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split


@lru_cache(maxsize=None)
def _npz(name: str) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(lzma.decompress((ASSETS / f"{name}.npz.xz").read_bytes()))) as f:
        return {k: f[k] for k in f.files}


def mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """MNIST: uint8 N x 28 x 28 and int64 labels (60000 train / 10000 test)."""
    d = _npz("mnist")
    return d[f"x_{_split(split)}"], d[f"y_{split}"].astype(np.int64)


def usps(split: str = "train", size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """USPS: uint8 N x size x size (bilinear from the native 16 x 16) and int64 labels (7291 / 2007)."""
    d = _npz("usps")
    x, y = d[f"x_{_split(split)}"], d[f"y_{split}"].astype(np.int64)
    if size != 16:
        t = torch.from_numpy(x).float().unsqueeze(1)
        t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
        x = t.squeeze(1).round().clamp(0, 255).to(torch.uint8).numpy()
    return x, y


@lru_cache(maxsize=1)
def bsds500_photos() -> tuple[np.ndarray, ...]:
    """The 200 BSDS500 training photos as H x W x 3 uint8 arrays (the MNIST-M backgrounds)."""
    return tuple(np.asarray(Image.open(p).convert("RGB")) for p in sorted((ASSETS / "bsds500").glob("*.jpg")))


def random_patches(n: int, seed: int, size: int = 28) -> np.ndarray:
    """``n`` random ``size`` x ``size`` crops of random BSDS500 photos, uint8 n x size x size x 3."""
    rng = np.random.default_rng(seed)
    photos = bsds500_photos()
    which = rng.integers(len(photos), size=n)
    out = np.empty((n, size, size, 3), np.uint8)
    for i, k in enumerate(which):
        p = photos[k]
        r, c = rng.integers(p.shape[0] - size + 1), rng.integers(p.shape[1] - size + 1)
        out[i] = p[r : r + size, c : c + size]
    return out


def blend_mnist_m(digits: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """MNIST-M blend (Ganin & Lempitsky): ``|patch - 255 * (digit > 0)|`` per channel, uint8."""
    ink = (digits > 0).astype(np.int16)[..., None] * 255
    return np.abs(patches.astype(np.int16) - ink).astype(np.uint8)


@lru_cache(maxsize=2)
def mnist_m(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """MNIST-M, generated deterministically from MNIST and BSDS500: uint8 N x 28 x 28 x 3, int64 labels."""
    x, y = mnist(split)
    seed = MNIST_M_SEED + (0 if split == "train" else 1)
    return blend_mnist_m(x, random_patches(len(x), seed)), y


def imagenet_samples() -> tuple[list[Path], np.ndarray]:
    """The 1000 ImageNet sample images (one per class): file paths and ILSVRC-2012 class indices."""
    paths = sorted((ASSETS / "imagenet_samples").glob("*.jpg"))
    wnids = sorted({p.name.split("_", 1)[0] for p in paths})
    index = {w: i for i, w in enumerate(wnids)}
    return paths, np.array([index[p.name.split("_", 1)[0]] for p in paths], dtype=np.int64)


def imagenet_class_names() -> list[str]:
    """The 1000 ILSVRC-2012 class names in class-index order (sorted WordNet ids)."""
    names = {}
    for p in (ASSETS / "imagenet_samples").glob("*.jpg"):
        wnid, name = p.stem.split("_", 1)
        names[wnid] = name.replace("_", " ")
    return [names[w] for w in sorted(names)]


def hymenoptera(split: str = "train") -> tuple[list[Path], np.ndarray]:
    """The ants/bees set of PyTorch's transfer-learning tutorial: paths and labels (0 ants, 1 bees).

    ``split`` is 'train' (244 images) or 'val' (153 images).
    """
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    paths, labels = [], []
    for label, cls in enumerate(HYMENOPTERA_CLASSES):
        files = sorted((ASSETS / "hymenoptera" / split / cls).glob("*.jpg"))
        paths += files
        labels += [label] * len(files)
    return paths, np.array(labels, dtype=np.int64)


def loader(x, y, batch_size: int = 64, shuffle: bool = False, seed: int = 0) -> torch.utils.data.DataLoader:
    """A DataLoader over in-memory tensors (arrays are converted); shuffling is seeded."""
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    gen = torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, generator=gen
    )


def subset(n: int | None, total: int, seed: int = 0) -> np.ndarray:
    """A fixed random choice of ``n`` of ``total`` indices (all of them, in order, when n is None)."""
    if n is None or n >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))
