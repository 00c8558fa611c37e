"""Where and how a lesson runs: the device, seeding, moving tensors and models there, bf16 autocast on CUDA,
and the one-call lesson start (threads chosen for the machine, a clock for the closing summary)."""
from __future__ import annotations

import datetime
import json
import os
import platform
import random
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

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


def provenance(dev: torch.device | None = None) -> dict[str, str]:
    """Where a figure comes from: UTC date, device, torch and timm versions, and the git commit of this checkout
    (``+dirty`` when it has uncommitted changes; ``unknown`` outside a git checkout)."""
    import timm

    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
        commit += "+dirty" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "device": device_name(dev), "torch": torch.__version__, "timm": timm.__version__, "commit": commit}


def _lesson_id() -> str | None:
    """The lesson a notebook kernel runs: its working folder is solutions/<id> or lessons/<id>."""
    name = Path.cwd().name
    return name if re.fullmatch(r"\d\d_\w+", name) else None


@dataclass
class Lesson:
    """What :func:`start_lesson` returns: the profile, the device, the thread count, a clock, and the figures the
    lesson recorded (:meth:`record`)."""

    profile: str
    device: torch.device
    threads: int
    started: float = field(default_factory=time.perf_counter)
    lesson_id: str | None = field(default_factory=_lesson_id)
    figures: dict = field(default_factory=dict)

    def elapsed(self) -> float:
        """Seconds since the lesson started."""
        return time.perf_counter() - self.started

    def record(self, key: str, value):
        """Keep a headline figure under ``key`` and return it unchanged.

        With ``TLKIT_RECORD=<folder>`` set, every figure recorded so far is also written (atomically, after each
        call, so a crash keeps them) to ``<folder>/<lesson id>.json`` with the profile and :func:`provenance`;
        INTERVIEW.md cites figures from those files.
        """
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ValueError(f"record key {key!r}: use snake_case (a-z, 0-9, _)")
        if isinstance(value, torch.Tensor):
            value = value.item()
        if isinstance(value, np.generic):
            value = value.item()
        if not isinstance(value, (int, float, str)):
            raise TypeError(f"record {key!r}: a number or a string, not {type(value).__name__}")
        self.figures[key] = value
        folder = os.environ.get("TLKIT_RECORD")
        if folder:
            if self.lesson_id is None:
                raise RuntimeError(f"TLKIT_RECORD is set but {Path.cwd()} is not a lesson folder (NN_name)")
            out = Path(folder) / f"{self.lesson_id}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            meta = {"lesson": self.lesson_id, "profile": self.profile,
                    "command": os.environ.get("TLKIT_RECORD_COMMAND", ""), **provenance(self.device)}
            tmp = out.with_suffix(".json.tmp")
            tmp.write_text(json.dumps({**meta, "seconds": round(self.elapsed(), 1), "figures": self.figures},
                                      indent=1) + "\n")
            os.replace(tmp, out)
        return value

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
