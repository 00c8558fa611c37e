"""Choosing a backbone by measurement: parameters by kind of layer, FLOPs (torch's own counter), latency (median
after warm-up, no autograd, the model's mode restored), and the Pareto front of latency vs accuracy. The reference
implementations of lesson 06's model-choice exercises live here, with the architecture families it costs
(:func:`random_model`: timm builds without weights) and their *published* ImageNet figures (:data:`PUBLISHED`)."""
from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import timm
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count


class Published(NamedTuple):
    """Published figures of one architecture's reference ImageNet-1k weights -- cited, never measured here."""
    name: str           # as the literature writes it
    px: int             # native input size (the evaluation crop)
    params: int         # the published parameter count ...
    params_step: int    # ... and its precision (1: an exact count; 100_000: printed as "4.7M")
    top1: float         # ImageNet-1k (ILSVRC-2012) validation top-1, single centre crop, as a fraction
    source: str         # where both numbers are printed
    build: tuple = ()   # (keyword, value) pairs for timm that build what ``params`` counts, where the default differs


_TV = "torchvision model documentation, {} (acc@1, num_params)"
_LITE = "TensorFlow EfficientNet-Lite release (tensorflow/tpu, models/official/efficientnet/lite/README.md: params, FP32 accuracy)"
# The families lesson 06 costs, by timm name; the parameter counts and top-1 are PUBLISHED figures (sources per row),
# never measurements of this course: the lesson measures parameters, FLOPs and latency of weightless timm builds.
PUBLISHED = {
    "vgg16": Published("VGG16", 224, 138_357_544, 1, 0.71592,
                       _TV.format("VGG16_Weights.IMAGENET1K_V1") + "; Simonyan & Zisserman, ICLR 2015"),
    "resnet50": Published("ResNet50", 224, 25_557_032, 1, 0.7613,
                          _TV.format("ResNet50_Weights.IMAGENET1K_V1") + "; He et al., CVPR 2016"),
    "inception_v3": Published("InceptionV3", 299, 27_161_264, 1, 0.77294,
                              _TV.format("Inception_V3_Weights.IMAGENET1K_V1") + " -- the count includes the auxiliary "
                              "classifier, which only training uses; Szegedy et al., CVPR 2016", (("aux_logits", True),)),
    "mobilenetv2_100": Published("MobileNetV2", 224, 3_504_872, 1, 0.71878,
                                 _TV.format("MobileNet_V2_Weights.IMAGENET1K_V1") + "; Sandler et al., CVPR 2018"),
    "efficientnet_b0": Published("EfficientNet-B0", 224, 5_288_548, 1, 0.77692,
                                 _TV.format("EfficientNet_B0_Weights.IMAGENET1K_V1") + " (the paper's weights, ported); "
                                 "Tan & Le, ICML 2019"),
    "vit_base_patch16_224": Published("ViT-B/16", 224, 86_567_656, 1, 0.81072,
                                      _TV.format("ViT_B_16_Weights.IMAGENET1K_V1") + " (trained on ImageNet-1k alone, "
                                      "with a DeiT-style recipe); Dosovitskiy et al., ICLR 2021"),
    "efficientnet_lite0": Published("EfficientNet-Lite0", 224, 4_700_000, 100_000, 0.751, _LITE),
    "efficientnet_lite1": Published("EfficientNet-Lite1", 240, 5_400_000, 100_000, 0.767, _LITE),
    "efficientnet_lite2": Published("EfficientNet-Lite2", 260, 6_100_000, 100_000, 0.776, _LITE),
}
FAMILIES = ("vgg16", "resnet50", "inception_v3", "mobilenetv2_100", "efficientnet_b0", "vit_base_patch16_224")


def random_model(name: str, device: torch.device | str = "cpu", **kwargs) -> nn.Module:
    """timm's architecture ``name`` with random weights, never downloaded (for measuring cost, not accuracy), in eval
    mode, its 4-d weights in channels_last like :func:`tlkit.runtime.prepare`. Built on the meta device and
    materialised one tensor at a time directly in its final format, so that no large weight exists twice (VGG16's
    first fully connected layer alone is 411 MB; a convolution's own ``reset_parameters`` copies it once more):
    every parameter normal with std 0.02, then each normalisation layer reset (weight 1, bias 0, BatchNorm's running
    statistics); other buffers zero."""
    with torch.device("meta"):
        model = timm.create_model(name, pretrained=False, **kwargs)
    made = {}
    for module in model.modules():
        for key, p in module._parameters.items():
            if p is not None and id(p) not in made:
                fmt = torch.channels_last if p.ndim == 4 else torch.contiguous_format
                data = torch.empty(p.shape, dtype=p.dtype, device=device, memory_format=fmt).normal_(0, 0.02)
                made[id(p)] = nn.Parameter(data, requires_grad=p.requires_grad)
            if p is not None:
                module._parameters[key] = made[id(p)]
        for key, b in module._buffers.items():
            if b is not None:
                module._buffers[key] = torch.zeros(b.shape, dtype=b.dtype, device=device)
    for module in model.modules():
        if isinstance(module, (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)):
            module.reset_parameters()
    return model.eval()


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


def _cpu_attention_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query_shape, key_shape, value_shape)


# torch's counter knows the GPU kernels of scaled_dot_product_attention, not the CPU one (torch >= 2.2): a ViT's
# attention products (4 % of ViT-B/16's FLOPs) would go uncounted on a CPU
_CPU_ATTENTION_OP = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
_ATTENTION_CPU = {_CPU_ATTENTION_OP: _cpu_attention_flops} if _CPU_ATTENTION_OP is not None else {}


def flops(model: nn.Module, x: torch.Tensor) -> int:
    """Floating-point operations of one ``model(x)`` in eval mode, counted by ``torch.utils.flop_counter`` (a
    multiply-add is 2 FLOPs; convolutions and matrix products, attention's included, on a CPU too). The model's
    mode is restored."""
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False, custom_mapping=_ATTENTION_CPU)
        with torch.no_grad(), counter:
            model(x)
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())
