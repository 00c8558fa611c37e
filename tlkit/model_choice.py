"""Choosing a backbone by measurement: parameters by kind of layer, FLOPs (torch's own counter), latency (median
after warm-up, no autograd, the model's mode restored), and the Pareto front of latency vs accuracy. The reference
implementations of lesson 06's model-choice exercises live here."""
from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters_by_kind(model: nn.Module) -> dict[str, int]:
    """Trainable-or-not parameters (not buffers) of ``model`` by the kind of module that owns them: ``conv`` (every
    convolution, depthwise and pointwise included), ``bn`` (batch norm), ``linear``, ``other``; the four counts sum
    to ``sum(p.numel() for p in model.parameters())`` (a shared parameter counts once)."""
    counts = {"conv": 0, "bn": 0, "linear": 0, "other": 0}
    seen = set()
    for module in model.modules():
        if isinstance(module, nn.modules.conv._ConvNd):
            kind = "conv"
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            kind = "bn"
        elif isinstance(module, nn.Linear):
            kind = "linear"
        else:
            kind = "other"
        for p in module.parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                counts[kind] += p.numel()
    return counts


def measure_latency(model: nn.Module, x: torch.Tensor, warmup: int = 3, repeats: int = 10) -> float:
    """Median wall time of ``model(x)`` in milliseconds over ``repeats`` timed calls, after ``warmup`` untimed
    ones; in eval mode and without autograd (the model's mode is restored afterwards)."""
    was_training = model.training
    model.eval()
    times = []
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                model(x)
            for _ in range(repeats):
                if x.is_cuda:
                    torch.cuda.synchronize(x.device)
                start = time.perf_counter()
                model(x)
                if x.is_cuda:
                    torch.cuda.synchronize(x.device)
                times.append(time.perf_counter() - start)
    finally:
        model.train(was_training)
    return float(np.median(times)) * 1000.0


def pareto_front(points: dict) -> list:
    """The names of ``points`` (name -> (latency, accuracy)) that no other point dominates: another point dominates
    one when it is at least as fast and at least as accurate, and strictly better in one of the two. Equal points do
    not dominate each other (both stay). Sorted fastest first (then most accurate first, then input order)."""
    front = []
    for name, (lat, acc) in points.items():
        dominated = any(l2 <= lat and a2 >= acc and (l2 < lat or a2 > acc)
                        for other, (l2, a2) in points.items() if other != name)
        if not dominated:
            front.append(name)
    return sorted(front, key=lambda n: (points[n][0], -points[n][1]))


def flops(model: nn.Module, x: torch.Tensor) -> int:
    """Floating-point operations of one ``model(x)`` in eval mode, counted by ``torch.utils.flop_counter`` (a
    multiply-add is 2 FLOPs; convolutions and matrix products only). The model's mode is restored."""
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(x)
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())
