"""The lesson runtime: ``start_lesson()`` (seeding, threads for the machine, a clock) and ``lesson.record`` of the
headline figures, written with their :func:`provenance` under ``TLKIT_RECORD``."""
from __future__ import annotations

import datetime
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from tlkit import profile
from tlkit.stats import Interval, Verdict
from tlkit.files import write_json
from tlkit.runtime import cpu_count, device, device_name, release_freed_memory, seed_everything

from .stubs import advise_on_stubs


def provenance(dev: torch.device | None = None) -> dict[str, str]:
    """Where a figure comes from: UTC date, device, torch and timm versions, and the git commit of this checkout
    (``+dirty`` when it has uncommitted changes; ``unknown`` outside a git checkout)."""
    import timm

    here = Path(__file__).resolve().parent  # git finds the checkout from any folder inside it
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
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
    units: dict = field(default_factory=dict)

    def elapsed(self) -> float:
        """Seconds since the lesson started."""
        return time.perf_counter() - self.started

    def record(self, key: str, value, unit: str | None = None, means: str | None = None):
        """Keep a headline figure under ``key`` and return it unchanged.

        A :class:`tlkit.stats.Verdict` is kept as its word with the interval it used (``key_ci_low``,
        ``key_ci_high``; null when unbounded); a :class:`tlkit.stats.Interval` as its estimate with the same two
        keys. ``unit`` (``accuracy``, ``points``, ``seconds``, ...) and ``means`` (one line: what was measured, on
        what) document the figure in the file; INTERVIEW.md prints the unit beside every figure it cites.

        With ``TLKIT_RECORD=<folder>`` set, every figure recorded so far is also written (atomically, after each
        call, so a crash keeps them) to ``<folder>/<lesson id>.json`` with the profile and :func:`provenance`.
        """
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ValueError(f"record key {key!r}: use snake_case (a-z, 0-9, _)")
        interval = value.interval if isinstance(value, Verdict) else value if isinstance(value, Interval) else None
        plain = value.word if isinstance(value, Verdict) else value.estimate if interval is not None else value
        if isinstance(plain, (torch.Tensor, np.generic)):
            plain = plain.item()
        if not isinstance(plain, (int, float, str)):
            raise TypeError(f"record {key!r}: a number, a string, a Verdict or an Interval, not {type(value).__name__}")
        self.figures[key] = plain
        if interval is not None:
            self.figures[f"{key}_ci_low"] = interval.low if interval.bounded else None
            self.figures[f"{key}_ci_high"] = interval.high if interval.bounded else None
        if unit or means:
            self.units[key] = {"unit": unit, "means": means}
        folder = os.environ.get("TLKIT_RECORD")
        if folder:
            if self.lesson_id is None:
                raise RuntimeError(f"TLKIT_RECORD is set but {Path.cwd()} is not a lesson folder (NN_name)")
            out = Path(folder) / f"{self.lesson_id}.json"
            meta = {"lesson": self.lesson_id, "profile": self.profile,
                    "command": os.environ.get("TLKIT_RECORD_COMMAND", ""), **provenance(self.device)}
            write_json({**meta, "seconds": round(self.elapsed(), 1), "figures": self.figures, "units": self.units},
                       out)
        return value

    def __str__(self) -> str:
        return f"profile {self.profile!r} on {self.device} ({self.threads} torch threads), torch {torch.__version__}"


def trim_memory_after_cells() -> None:
    """In an IPython kernel: after every cell, :func:`tlkit.runtime.release_freed_memory` (a kernel otherwise keeps
    the peak of its largest cell, and the next cell's peak comes on top: lesson 06, +0.8 GB). Registered once per
    kernel, however often start_lesson runs."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None and _release_after_cell not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _release_after_cell)


def _release_after_cell(result) -> None:
    release_freed_memory()


def start_lesson(seed: int = 0) -> Lesson:
    """Start a lesson: seed everything and choose torch's CPU threads for this machine.

    All available cores in the quick and full profiles; one in the grade profile, whose tensors are so small that
    extra threads only wait on each other (and graders run several kernels side by side). In a notebook, a cell that
    calls an exercise not written yet says which one (:mod:`tlkit.lesson.stubs`).
    """
    name = profile.current()
    threads = 1 if name == "grade" else cpu_count()
    torch.set_num_threads(threads)
    seed_everything(seed)
    advise_on_stubs()
    trim_memory_after_cells()
    return Lesson(name, device(), threads)
