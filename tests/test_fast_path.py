"""The GPU fast path run on the CPU: channels_last, bf16 autocast and torch.compile (inductor) each give the plain
path's results on a tiny model, and ``tlkit bench --compile`` runs, so a lent GPU only has to confirm the speed."""
import json
import math

import pytest
import torch
from torch import nn

from tlkit import data, runtime, train
from tlkit.course import bench, cli

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors (tests/conftest.py)

# Tolerances, absolute and relative, on the losses (0.2 to 0.75) and the logits (up to ~2) of _fit.
# fp32 either way, only the summation order differs (channels_last kernels, inductor's fused ones): float32 rounding,
# ~1e-7 relative per op, grown over 6 SGD steps (1e-6 seen); a real fault (a wrong layout, a dropped op) is 1e-2 or more
FP32_TOL = 1e-4
# bf16 keeps 8 bits of mantissa (0.4 % steps) in every conv and linear; 9e-3 seen on the logits, 7e-4 on the losses;
# a broken forward (wrong dtype path, lost bias, no learning) is off by tenths
BF16_TOL = 3e-2


class TinyNet(nn.Module):
    """Two convolutions (one with BatchNorm) and a linear classifier; ``pretrained_cfg`` as timm's, for the bench."""

    def __init__(self, num_classes=2, seed=0):
        super().__init__()
        self.pretrained_cfg = {"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}
        runtime.seed_everything(seed)
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc(self.conv(x))


def _task(n=64):
    """Images whose mean gives the class (shifted by -1 or +1): 6 steps take the loss from 0.75 to about 0.2 and the
    logits to about 2, so the tolerances below are small against what the runs compute."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    return torch.randn(n, 3, 16, 16, generator=g) + (2 * y - 1).view(-1, 1, 1, 1), y


def _fit(model, compile=False):
    """6 SGD steps of ``model`` (``torch.compile``-d, or not), a record per step: its losses, and its eager
    predictions on the training images. SGD, not Adam: Adam's first steps are lr * sign(gradient), which turns a
    rounding difference in a near-zero gradient into a whole step."""
    x, y = _task()
    history = train.fit(torch.compile(model) if compile else model, data.loader(x, y, batch_size=16, shuffle=True),
                        torch.optim.SGD(model.parameters(), lr=0.5), steps=6, eval_every=1,
                        val=data.loader(x, y, batch_size=32), progress=False)
    return torch.tensor([v for k in sorted(history) if k.endswith("loss") for v in history[k]]), train.predict(model, x)


def _close(a, b, tol):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


def _watch(model):
    """Record, on every forward, whether the first conv's input is channels_last and the conv/linear output dtypes."""
    seen = {"channels_last": set(), "dtypes": set()}
    model.conv[0].register_forward_pre_hook(
        lambda m, args: seen["channels_last"].add(args[0].is_contiguous(memory_format=torch.channels_last)))
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(lambda m, args, out: seen["dtypes"].add(out.dtype))
    return seen


def test_channels_last_gives_the_contiguous_results(monkeypatch):
    fast = runtime.prepare(TinyNet(), torch.device("cpu"))
    fast_seen = _watch(fast)
    fast_losses, fast_out = _fit(fast)
    monkeypatch.setattr(train, "to_device", lambda x, dev=None: x.to(dev))  # the plain path: batches as they come
    plain = TinyNet()
    plain_seen = _watch(plain)
    plain_losses, plain_out = _fit(plain)
    assert fast_seen["channels_last"] == {True} and plain_seen["channels_last"] == {False}
    _close(fast_losses, plain_losses, FP32_TOL)
    _close(fast_out, plain_out, FP32_TOL)


def test_bf16_autocast_on_the_cpu_gives_the_fp32_results(monkeypatch):
    fp32 = runtime.prepare(TinyNet(), torch.device("cpu"))
    fp32_seen = _watch(fp32)
    fp32_losses, fp32_out = _fit(fp32)
    monkeypatch.setattr(runtime, "AUTOCAST_ON_CPU", True)
    bf16 = runtime.prepare(TinyNet(), torch.device("cpu"))
    bf16_seen = _watch(bf16)
    bf16_losses, bf16_out = _fit(bf16)
    assert fp32_seen["dtypes"] == {torch.float32} and bf16_seen["dtypes"] == {torch.bfloat16}, "bf16 really ran"
    assert bf16_out.dtype == torch.float32, "predict returns float32"
    _close(bf16_losses, fp32_losses, BF16_TOL)
    _close(bf16_out, fp32_out, BF16_TOL)


@pytest.fixture
def inductor():
    """torch.compile's inductor backend on the CPU (it needs a C++ compiler), with dynamo's caches fresh before and
    after (no recompile limits or dynamic shapes carried from one test to the next); dynamo's stats counter."""
    from torch._inductor.cpp_builder import get_cpp_compiler

    try:
        get_cpp_compiler()
    except RuntimeError as e:  # InvalidCxxCompiler, or MSVC's cl missing on Windows
        pytest.skip(f"torch.compile (inductor on the CPU) needs a C++ compiler: {e}")
    torch._dynamo.reset()
    yield torch._dynamo.utils.counters["stats"]
    torch._dynamo.reset()


@pytest.mark.parametrize("bf16", [False, True], ids=["fp32", "bf16"])
def test_compiled_fit_gives_the_eager_results(inductor, monkeypatch, bf16):
    monkeypatch.setattr(runtime, "AUTOCAST_ON_CPU", bf16)  # bf16: the whole GPU fast path, compiled
    eager_losses, eager_out = _fit(runtime.prepare(TinyNet(), torch.device("cpu")))
    graphs = inductor["unique_graphs"]
    compiled_losses, compiled_out = _fit(runtime.prepare(TinyNet(), torch.device("cpu")), compile=True)
    assert inductor["unique_graphs"] > graphs, "the training steps ran compiled"
    _close(compiled_losses, eager_losses, BF16_TOL if bf16 else FP32_TOL)
    _close(compiled_out, eager_out, BF16_TOL if bf16 else FP32_TOL)


def test_bench_compile_runs(inductor, monkeypatch, tmp_path):
    # TinyNet, not EfficientNet-Lite0: inductor takes ~40 s to compile Lite0's training step on 2 cores, ~10 s TinyNet's
    monkeypatch.setattr(bench, "_model", lambda dev, seed=0: TinyNet(seed=seed).to(dev))
    graphs = inductor["unique_graphs"]
    out = tmp_path / "bench.json"
    assert cli.main(["bench", "--size", "smoke", "--device", "cpu", "--compile", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["settings"]["compile"] and inductor["unique_graphs"] > graphs
    assert math.isfinite(r["fit_images_per_s"]) and r["fit_images_per_s"] > 0
