"""Where and how a lesson runs: the device, seeding, moving tensors and models there, bf16 autocast on CUDA,
and the one-call lesson start (threads chosen for the machine, a clock for the closing summary)."""
from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import profile


def device() -> torch.device:
    """The best available device: cuda, then mps, then cpu."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def autocast(dev: torch.device):
    """bf16 autocast on CUDA, a no-op elsewhere."""
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")


def to_device(x: torch.Tensor, dev: torch.device | None = None) -> torch.Tensor:
    """``x`` on ``dev`` (default :func:`device`); image batches (4-d) in channels_last memory format."""
    x = x.to(dev or device(), non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x


def prepare(model: nn.Module, dev: torch.device | None = None) -> nn.Module:
    """Move ``model`` to ``dev`` (default :func:`device`) in channels_last memory format (faster on CPUs too)."""
    return model.to(dev or device(), memory_format=torch.channels_last)


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (cpu for a model without parameters)."""
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def cpu_count() -> int:
    """The cores this process may use (the affinity mask, not the machine's total)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass
class Lesson:
    """What :func:`start_lesson` returns: the profile, the device, the thread count and a clock."""

    profile: str
    device: torch.device
    threads: int
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        """Seconds since the lesson started."""
        return time.perf_counter() - self.started

    def __str__(self) -> str:
        return f"profile {self.profile!r} on {self.device} ({self.threads} torch threads), torch {torch.__version__}"


def start_lesson(seed: int = 0) -> Lesson:
    """Start a lesson: seed everything and choose torch's CPU threads for this machine.

    All available cores in the quick and full profiles; one in the grade profile, whose tensors are so small that
    extra threads only wait on each other (and graders run several kernels side by side).
    """
    name = profile.current()
    threads = 1 if name == "grade" else cpu_count()
    torch.set_num_threads(threads)
    seed_everything(seed)
    return Lesson(name, device(), threads)
