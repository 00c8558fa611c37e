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
    """MNIST-M blend (Ganin & Lempitsky): ``|patch - 255 * (digit > 0)|`` per channel, uint8 N x H x W x 3."""
    patches = np.asarray(patches, dtype=np.uint8)
    ink = (np.asarray(digits) > 0)[..., None]                            # N x H x W x 1: broadcasts over channels
    return np.where(ink, 255 - patches, patches)                         # |p - 255| and |p - 0|, in uint8


@lru_cache(maxsize=2)
def mnist_m(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """MNIST-M, generated deterministically from MNIST and BSDS500: uint8 N x 28 x 28 x 3, int64 labels."""
    x, y = mnist(split)
    patches = random_patches(len(x), MNIST_M_SEED + (0 if split == "train" else 1))
    for i in range(0, len(x), 10_000):   # blended in place, 10 000 at a time: the blend's temporaries stay small
        patches[i : i + 10_000] = blend_mnist_m(x[i : i + 10_000], patches[i : i + 10_000])
    return patches, y


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


class Batches:
    """Mini-batches over in-memory tensors of one length: each iteration is one pass (reshuffled with a seeded
    generator when ``shuffle``); with ``flip`` each image of the first tensor (N x C x H x W) is mirrored left-right
    with probability 1/2 (a fresh copy, the stored images untouched). ``len()`` is the number of batches per pass."""

    def __init__(self, *tensors, batch_size: int = 64, shuffle: bool = False, seed: int = 0, flip: bool = False,
                 drop_last: bool = False):
        if not tensors:
            raise ValueError("Batches needs at least one tensor")
        self.tensors = tuple(torch.as_tensor(t) for t in tensors)
        lengths = {len(t) for t in self.tensors}
        if len(lengths) != 1:
            raise ValueError(f"tensors of different lengths: {[len(t) for t in self.tensors]}")
        self.n, self.batch_size, self.shuffle, self.flip, self.drop_last = lengths.pop(), batch_size, shuffle, flip, drop_last
        if drop_last and self.n < batch_size:
            raise ValueError(f"need at least batch_size={batch_size} samples, got {self.n}")
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)

    def __iter__(self):
        order = torch.randperm(self.n, generator=self.generator) if self.shuffle else torch.arange(self.n)
        for i in range(len(self)):
            idx = order[i * self.batch_size : (i + 1) * self.batch_size]
            batch = [t[idx] for t in self.tensors]
            if self.flip:
                mirror = torch.rand(len(idx), generator=self.generator) < 0.5
                batch[0][mirror] = batch[0][mirror].flip(-1)
            yield tuple(batch)


def loader(*tensors, batch_size: int = 64, shuffle: bool = False, seed: int = 0, flip: bool = False,
           drop_last: bool = False) -> Batches:
    """:class:`Batches` over in-memory arrays or tensors (any number of them, e.g. x, y, teacher logits)."""
    return Batches(*tensors, batch_size=batch_size, shuffle=shuffle, seed=seed, flip=flip, drop_last=drop_last)


def endless(batches):
    """The batches of pass after pass, for ever."""
    while True:
        yield from batches


class Paired:
    """One pass of ``first`` per iteration, each batch joined with the next batch of ``second`` (cycled
    endlessly): DANN's labelled source with its unlabelled target. Yields ``(*first_batch, *second_batch)``."""

    def __init__(self, first, second):
        self.first, self.second = first, endless(second)

    def __len__(self) -> int:
        return len(self.first)

    def __iter__(self):
        for batch in self.first:
            yield (*batch, *next(self.second))


def subset(n: int | None, total: int, seed: int = 0) -> np.ndarray:
    """A fixed random choice of ``n`` of ``total`` indices (all of them, in order, when n is None)."""
    if n is None or n >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))


def per_class(labels, k: int | None, seed: int = 0) -> np.ndarray:
    """``k`` random indices of each class of ``labels`` (all of a class when k is None or larger), sorted."""
    rng, labels, chosen = np.random.default_rng(seed), np.asarray(labels), []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        chosen.extend(idx if k is None or k >= len(idx) else rng.choice(idx, k, replace=False))
    return np.sort(np.array(chosen, dtype=np.int64))


def digit_inputs(images, mean=None, std=None, scale: float = 255.0, chunk: int = 10_000) -> torch.Tensor:
    """Digit images (uint8 N x H x W grey, or N x H x W x 3) -> float32 N x 3 x H x W: grey replicated to 3
    channels, divided by ``scale``, then standardised per channel with ``mean``/``std`` (3 values each; default
    none). One pipeline for every digit domain (MNIST, MNIST-M, USPS); ``chunk`` images at a time are converted into
    the one output tensor (no full-size float temporary)."""
    images = np.asarray(images)
    out = torch.empty(len(images), 3, *images.shape[1:3])
    for i in range(0, len(images), chunk):
        x = torch.as_tensor(images[i : i + chunk], dtype=torch.float32).div_(scale)
        x = x.unsqueeze(1).expand(-1, 3, -1, -1) if x.ndim == 3 else x.permute(0, 3, 1, 2)   # views, no copy yet
        if mean is None:
            out[i : i + chunk] = x
        else:
            torch.sub(x, torch.as_tensor(mean).view(1, 3, 1, 1), out=out[i : i + chunk])
            out[i : i + chunk].div_(torch.as_tensor(std).view(1, 3, 1, 1))
    return out


def channel_stats(*image_sets) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std (of values in 0..1) over the pooled digit image sets."""
    sets = [np.asarray(s) for s in image_sets]
    pooled, start = torch.empty(3, sum(s[..., 0].size if s.ndim == 4 else s.size for s in sets)), 0
    for s in sets:   # each set's channels copied into their place: no other pooled copy
        x = digit_inputs(s).transpose(0, 1)                              # 3 x N x H x W
        pooled[:, start : start + x[0].numel()].view(x.shape).copy_(x)
        start += x[0].numel()
    return pooled.mean(1), pooled.std(1)


def few_labels(labels, per_class: int, generator: torch.Generator) -> torch.Tensor:
    """Indices into ``labels`` with exactly ``per_class`` of every class present, drawn without replacement with
    ``generator`` (the same seed gives the same indices); an int64 tensor, sorted ascending. ValueError naming the
    class when a class has fewer than ``per_class`` examples."""
    labels = torch.as_tensor(np.asarray(labels))
    chosen = []
    for c in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == c).flatten()
        if len(idx) < per_class:
            raise ValueError(f"class {c} has only {len(idx)} examples, {per_class} requested")
        chosen.append(idx[torch.randperm(len(idx), generator=generator)[:per_class]])
    return torch.sort(torch.cat(chosen)).values
