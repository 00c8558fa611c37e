"""What makes a good source (lesson 10): the references of its graded functions.

* ``class_subset`` -- a pretraining set of chosen classes, the same number of images each (scale vs diversity);
* ``ridge_probe`` -- a closed-form linear probe (ridge regression onto one-hot targets, unpenalised bias);
* ``label_efficiency`` -- the label budget at which an accuracy curve reaches a target (log-linear interpolation);
* ``linear_cka`` -- linear centred kernel alignment of two representations (Kornblith et al. 2019);

and ``IMAGENET``: the two data sets called "ImageNet", as published (every checkpoint here is an ImageNet-1k one).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F

IMAGENET = {   # published counts, with their sources: never measured here (the package ships 1 photo per class)
    "ImageNet-1k": {"also called": "ILSVRC-2012 (the ImageNet Large Scale Visual Recognition Challenge data)",
                    "classes": 1_000, "training images": 1_281_167, "validation images": 50_000,
                    "source": "Russakovsky et al. 2015, 'ImageNet Large Scale Visual Recognition Challenge', IJCV"},
    "ImageNet-21k": {"also called": "the full ImageNet (fall 2011 release)", "classes": 21_841,
                     "training images": 14_197_122, "validation images": None,
                     "source": "Deng et al. 2009 (CVPR); counts of the fall 2011 release as given by Ridnik et al. "
                               "2021, 'ImageNet-21K Pretraining for the Masses'"},
}


def class_subset(labels, classes, per_class: int, generator: torch.Generator) -> torch.Tensor:
    """Indices into ``labels``: exactly ``per_class`` of each class in ``classes``, in the order of ``classes``, each
    class's picks in the order ``generator`` draws them (without replacement); an int64 tensor. ValueError naming the
    class when it has fewer than ``per_class`` examples."""
    labels = torch.as_tensor(np.asarray(labels))
    chosen = []
    for c in classes:
        idx = torch.nonzero(labels == c).flatten()
        if len(idx) < per_class:
            raise ValueError(f"class {c} has only {len(idx)} examples, {per_class} requested")
        chosen.append(idx[torch.randperm(len(idx), generator=generator)[:per_class]])
    return torch.cat(chosen) if chosen else torch.zeros(0, dtype=torch.int64)


def ridge_probe(features, labels, num_classes: int, l2: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Ridge regression of one-hot targets on ``features`` (N x D) with an unpenalised bias, in float64: centre
    features and targets, solve (Xc^T Xc + l2 I) W = Xc^T Yc, then b = mean(Y) - mean(X) W. Returns (W, b): W of shape
    (num_classes, D), b of shape (num_classes,), in the features' floating dtype; predict with ``x @ W.T + b``."""
    x = torch.as_tensor(features)
    dtype = x.dtype if x.is_floating_point() else torch.float32
    x = x.double()
    y = F.one_hot(torch.as_tensor(np.asarray(labels)).long(), num_classes).double()
    x_mean, y_mean = x.mean(0), y.mean(0)
    xc, yc = x - x_mean, y - y_mean
    w = torch.linalg.solve(xc.T @ xc + l2 * torch.eye(x.shape[1], dtype=torch.float64), xc.T @ yc)   # D x classes
    b = y_mean - x_mean @ w
    return w.T.to(dtype), b.to(dtype)


def label_efficiency(budgets, accuracies, target: float) -> float:
    """The smallest label budget at which the accuracy curve (``budgets`` -> ``accuracies``, in any order) reaches
    ``target``: linear interpolation in log(budget) between the measured points around the first crossing; the first
    budget if the curve starts at or above ``target``; ``math.inf`` if it never reaches it."""
    points = sorted(zip(budgets, accuracies))
    for i, (budget, acc) in enumerate(points):
        if acc >= target:
            if i == 0:
                return float(budget)
            b0, a0 = points[i - 1]
            t = (target - a0) / (acc - a0)
            return float(math.exp(math.log(b0) + t * (math.log(budget) - math.log(b0))))
    return math.inf


def linear_cka(X, Y) -> float:
    """Linear CKA of two representations of the same n examples (n x p and n x q): columns centred,
    ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F), in float64. 1.0 for identical inputs; invariant to orthogonal
    transforms and isotropic scaling of either; the widths may differ."""
    x, y = torch.as_tensor(X).double(), torch.as_tensor(Y).double()
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"X has {x.shape[0]} examples, Y {y.shape[0]}: CKA compares the same examples")
    x, y = x - x.mean(0), y - y.mean(0)
    return float((y.T @ x).square().sum() / (torch.linalg.norm(x.T @ x) * torch.linalg.norm(y.T @ y)))
