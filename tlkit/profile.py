"""Run sizes for the lessons: the one place that decides how big an experiment is.

* ``quick`` -- CPU and CI: small subsets, few epochs, every lesson in <= 3 min on 2 cores.
* ``full``  -- a CUDA GPU: paper-scale data, all images, 224 px.
* ``grade`` -- under nbgrader autograde/validate (``NBGRADER_EXECUTION`` is set): only what grading needs.

``TLKIT_PROFILE`` (quick, full or grade) overrides the automatic choice.
"""
from __future__ import annotations

import os

import torch

PROFILES = ("quick", "full", "grade")


def current() -> str:
    """The active profile name."""
    forced = os.environ.get("TLKIT_PROFILE", "").strip().lower()
    if forced:
        if forced not in PROFILES:
            raise ValueError(f"TLKIT_PROFILE={forced!r}; expected one of {PROFILES}")
        return forced
    if os.environ.get("NBGRADER_EXECUTION"):
        return "grade"
    return "full" if torch.cuda.is_available() else "quick"


def pick(*, quick, full, grade):
    """The value for the active profile, e.g. ``epochs = pick(quick=3, full=20, grade=1)``."""
    return {"quick": quick, "full": full, "grade": grade}[current()]
