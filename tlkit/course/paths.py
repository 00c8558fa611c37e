"""Where the course lives: the one place that finds the course root and its folders.

The course root is the folder holding ``nbgrader_config.py`` (instructor source ``solutions/``, releases
``lessons/``, ``results/``, ``INTERVIEW.md``). :func:`course_root` finds it from ``--course`` or the working directory
(that folder or one above it); the module constants name this checkout's own course, which the tools use by default.
"""
from __future__ import annotations

from pathlib import Path

from tlkit.files import RESULTS

CHECKOUT = RESULTS.parent
SOLUTIONS = CHECKOUT / "solutions"
LESSONS = CHECKOUT / "lessons"
README = CHECKOUT / "README.md"
INTERVIEW = CHECKOUT / "INTERVIEW.md"
NBGRADER_CONFIG = CHECKOUT / "nbgrader_config.py"
FIXTURES = CHECKOUT / "tests" / "fixtures"


def course_root(course: Path | str | None = None) -> Path:
    """``course`` if given, else the working directory or the nearest folder above it with ``nbgrader_config.py``
    (the working directory itself when none has one)."""
    if course is not None:
        return Path(course)
    here = Path.cwd()
    return next((p for p in (here, *here.parents) if (p / "nbgrader_config.py").is_file()), here)
