"""Where and how code runs: the device, seeding, moving tensors and models there, bf16 autocast on CUDA (on the CPU
too when asked), the cores this process may use, and the device named in words (what a result ran on)."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
import os
import platform
import random
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn



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


# True: autocast(cpu) runs bf16 as well, so the tests check CUDA's bf16 numerics on the CPU (slower on most CPUs)
AUTOCAST_ON_CPU = False


def autocast(dev: torch.device):
    """bf16 autocast on CUDA (and on the CPU while ``AUTOCAST_ON_CPU`` is True), a no-op elsewhere."""
    on_cpu = dev.type == "cpu" and AUTOCAST_ON_CPU
    return torch.autocast("cpu" if on_cpu else "cuda", dtype=torch.bfloat16, enabled=on_cpu or dev.type == "cuda")


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
    """The cores this process may use: the affinity mask (not the machine's total), at most JupyterHub's per-user
    ``CPU_LIMIT`` when its spawner sets one (students sharing a server's cores then do not oversubscribe them)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        return max(1, min(cores, math.ceil(float(os.environ["CPU_LIMIT"]))))
    except (KeyError, ValueError):
        return cores


@functools.cache
def _malloc_trim():
    libc = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None


def release_freed_memory() -> None:
    """Hand the heap pages freed so far back to the system (glibc's ``malloc_trim``; nothing where there is none).
    torch's freed CPU buffers below glibc's mmap threshold otherwise stay in the process, and the next large
    computation's peak comes on top of them."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def device_name(dev: torch.device | None = None) -> str:
    """What a result ran on, in words: the GPU's name, or the CPU model and the cores this process may use."""
    dev = dev or device()
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    model = platform.processor() or platform.machine()
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        model = found.group(1).strip() if found else model
    except OSError:
        pass
    return f"{model} ({cpu_count()} cores)"
