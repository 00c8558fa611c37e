"""The digit domains (MNIST, MNIST-M, USPS) and a source -> target pair through one input pipeline, as lessons 04, 07
and 09 and the DANN experiments use them."""
from __future__ import annotations

import numpy as np
import torch

from tlkit import data

DOMAINS = ("MNIST", "MNIST-M", "USPS")


def domain(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, labels, test images, labels) of a digit domain as uint8 / int arrays."""
    loaders = {"MNIST": data.mnist, "MNIST-M": data.mnist_m, "USPS": data.usps}
    if name not in loaders:
        raise ValueError(f"unknown digit domain {name!r}; one of {DOMAINS}")
    return (*loaders[name]("train"), *loaders[name]("test"))


def digit_pair(source: str, target: str, n_source: int | None = None, n_target: int | None = None,
               n_test: int | None = None, target_scale: float = 255.0, domains: dict | None = None) -> dict:
    """Model inputs of a source -> target pair through ONE pipeline (channel statistics pooled over both training
    subsets, ``tlkit.data.digit_inputs``): keys ``xs ys xt yt xs_test ys_test xt_test yt_test mean std``.

    Fixed subsets (``tlkit.data.subset``): ``n_source`` labelled source images (seed 0), a different subset of
    ``n_target`` target images (seed 1), ``n_test`` test images of each domain (seed 2); None takes all.
    ``domains`` overrides a domain's arrays (e.g. an MNIST-M the learner built); ``target_scale=1.0`` feeds the
    target unscaled (lesson 04's bug).
    """
    def arrays(name):
        return (domains or {}).get(name) or domain(name)

    xs, ys, xs_test, ys_test = arrays(source)
    xt, yt, xt_test, yt_test = arrays(target)
    s, t = data.subset(n_source, len(xs), seed=0), data.subset(n_target, len(xt), seed=1)
    s_test, t_test = data.subset(n_test, len(xs_test), seed=2), data.subset(n_test, len(xt_test), seed=2)
    mean, std = data.channel_stats(xs[s], xt[t])
    return {"xs": data.digit_inputs(xs[s], mean, std), "ys": torch.as_tensor(ys[s]),
            "xt": data.digit_inputs(xt[t], mean, std, target_scale), "yt": torch.as_tensor(yt[t]),
            "xs_test": data.digit_inputs(xs_test[s_test], mean, std), "ys_test": torch.as_tensor(ys_test[s_test]),
            "xt_test": data.digit_inputs(xt_test[t_test], mean, std, target_scale),
            "yt_test": torch.as_tensor(yt_test[t_test]), "mean": mean, "std": std}
