"""tlkit.model_choice: parameters by kind, latency (median after warm-up, eval, no autograd, mode restored),
the Pareto front (weak/strict dominance, ties, duplicates), FLOPs (attention on a CPU included), the weightless
family builds, and the published table against the architectures timm builds."""
import time

import pytest
import timm
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

from tlkit import models
from tlkit.model_choice import (FAMILIES, PUBLISHED, count_parameters_by_kind, flops, measure_latency, pareto_front,
                                random_model)


class Scale(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return x * self.gain


def test_count_parameters_by_kind_small_net():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv2d(8, 8, 3, groups=8),
                        nn.Conv2d(8, 16, 1, bias=False), nn.BatchNorm2d(16), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.LayerNorm(16), Scale(16), nn.Linear(16, 5))
    counts = count_parameters_by_kind(net)
    assert counts == {"conv": 224 + 80 + 128, "bn": 48, "linear": 85, "other": 48}
    assert all(type(v) is int for v in counts.values())
    assert sum(counts.values()) == sum(p.numel() for p in net.parameters())


def test_count_parameters_by_kind_shared_and_frozen():
    tied = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 6))
    tied[2].weight = tied[0].weight
    for p in tied.parameters():
        p.requires_grad_(False)
    assert count_parameters_by_kind(tied) == {"conv": 0, "bn": 0, "linear": 48, "other": 0}


@pytest.mark.parametrize("variant", [0, 2])
def test_count_parameters_by_kind_efficientnet(variant):
    model = models.efficientnet_lite(variant, pretrained=False)
    c = count_parameters_by_kind(model)
    assert c["bn"] == sum(p.numel() for n, p in model.named_parameters() if n.split(".")[-2].startswith("bn")) > 0
    assert c["linear"] == 1280 * 1000 + 1000 and c["other"] == 0
    assert sum(c.values()) == sum(p.numel() for p in model.parameters())


class Sleeper(nn.Module):
    def __init__(self, delays):
        super().__init__()
        self.delays, self.calls, self.drop = list(delays), [], nn.Dropout(0.5)

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled()))
        time.sleep(self.delays[min(len(self.calls), len(self.delays)) - 1])
        return self.drop(x)


def test_measure_latency_warmup_median_milliseconds():
    spy = Sleeper([0.06, 0.06, 0.06, 0.003])
    ms = measure_latency(spy, torch.zeros(2, 3), warmup=3, repeats=3)
    assert len(spy.calls) == 6 and isinstance(ms, float) and 2 < ms < 30
    spy = Sleeper([0.004] * 5 + [0.15])
    assert 2 < measure_latency(spy, torch.zeros(2, 3), warmup=1, repeats=5) < 25  # median, not mean (33)
    spy = Sleeper([0.001, 0.002] + [0.025] * 4)
    assert measure_latency(spy, torch.zeros(2, 3), warmup=1, repeats=5) > 15  # median, not the fastest call


@pytest.mark.parametrize("train_mode", [True, False])
def test_measure_latency_eval_no_grad_mode_restored(train_mode):
    spy = Sleeper([0.001]).train(train_mode)
    measure_latency(spy, torch.zeros(2, 3, requires_grad=True), warmup=2, repeats=3)
    assert spy.calls and all(not training and not grad for training, grad in spy.calls)
    assert spy.training == train_mode and spy.drop.training == train_mode


def test_pareto_front_dominance_ties_duplicates():
    points = {"d": (30.0, 0.80), "a": (10.0, 0.70), "c": (15.0, 0.60), "b": (20.0, 0.80), "e": (5.0, 0.55)}
    before = dict(points)
    assert pareto_front(points) == ["e", "a", "b"] and points == before
    assert pareto_front({"p": (5, 0.5), "q": (5, 0.6), "r": (9, 0.9)}) == ["q", "r"]
    assert pareto_front({"x": (10, 0.8), "y": (10, 0.8), "z": (12, 0.9), "w": (12, 0.7)}) == ["x", "y", "z"]
    assert pareto_front({"y": (10, 0.8), "x": (10, 0.8)}) == ["y", "x"]
    assert pareto_front({}) == [] and pareto_front({"only": (1, 0.1)}) == ["only"]


def test_flops_counts_convolutions_and_restores_mode():
    conv = nn.Conv2d(3, 4, 3, bias=False).train()
    assert flops(conv, torch.zeros(1, 3, 10, 10)) == 2 * 4 * 3 * 9 * 8 * 8   # a multiply-add = 2 FLOPs
    assert conv.training
    lite = models.efficientnet_lite(0, pretrained=False)
    assert 0.6e9 < flops(lite, torch.zeros(1, 3, 224, 224)) < 1.0e9          # published: about 0.4 G multiply-adds


class Attention(nn.Module):
    def forward(self, x):
        return F.scaled_dot_product_attention(x, x, x)


def test_flops_counts_attention_on_cpu():
    b, h, n, d = 2, 3, 5, 4
    assert flops(Attention(), torch.zeros(b, h, n, d)) == 2 * (2 * b * h * n * n * d)   # q k^T, then weights @ v


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_parameter_counts_match_the_timm_builds(name):
    row = PUBLISHED[name]
    with torch.device("meta"):                      # shapes only: no memory, no initialisation
        model = timm.create_model(name, pretrained=False, **dict(row.build))
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - row.params) <= max(0.01 * row.params, row.params_step / 2), f"{name}: timm {n:,}, published {row.params:,}"
    assert 0.6 < row.top1 < 0.9 and row.source
    if not name.startswith("efficientnet_lite"):     # tlkit.models sets the Lite sizes (next test)
        assert row.px == model.pretrained_cfg["input_size"][-1]


def test_published_table_covers_the_families_and_the_lite_sizes():
    assert set(FAMILIES) < set(PUBLISHED) and len(FAMILIES) == 6
    assert all(PUBLISHED[f"efficientnet_lite{v}"].px == px for v, (px, _) in models.LITE_INPUT.items())
    assert PUBLISHED["resnet50"].params == 25_557_032 and PUBLISHED["resnet50"].top1 == 0.7613   # the seed's 25.6M / 76.1%


def test_random_model_weightless_channels_last_eval():
    model = random_model("resnet18")
    with torch.device("meta"):
        reference = timm.create_model("resnet18", pretrained=False)
    params = dict(model.named_parameters())
    assert not model.training and all(p.device.type == "cpu" for p in params.values())
    assert [(k, p.shape) for k, p in params.items()] == [(k, p.shape) for k, p in reference.named_parameters()]
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in params.values() if p.ndim == 4)
    assert torch.equal(model.bn1.running_var, torch.ones(64)) and torch.equal(model.bn1.weight, torch.ones(64))
    assert torch.equal(model.bn1.bias, torch.zeros(64)) and torch.equal(model.bn1.running_mean, torch.zeros(64))
    assert params["conv1.weight"].std() > 0 and params["fc.weight"].std() > 0
    y = model(torch.randn(2, 3, 64, 64).contiguous(memory_format=torch.channels_last))
    assert y.shape == (2, 1000) and torch.isfinite(y).all()
    vit = random_model("vit_tiny_patch16_224")                   # parameters no reset_parameters covers
    x = torch.zeros(1, 3, 224, 224)
    assert 0.01 < vit.cls_token.std() < 0.03 and torch.isfinite(vit(x)).all()
    plain = FlopCounterMode(display=False)                       # torch's counter alone misses the CPU attention
    with torch.no_grad(), plain:
        vit(x)
    assert flops(vit, x) - plain.get_total_flops() == 12 * 4 * 3 * 197 * 197 * 64   # blocks, heads, tokens, head dim
