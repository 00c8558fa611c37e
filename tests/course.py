"""The nbgrader round trip used by the tests: generate a release, fill it in as a student would, autograde."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
LESSONS = ROOT / "lessons"
LESSON_IDS = sorted(p.parent.name for p in SOLUTIONS.glob("*/*.ipynb") if p.parent.name == p.stem)
MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.M)


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the nbgrader CLI in ``course`` (which holds a copy of our nbgrader_config.py)."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def new_course(tmp: Path, lesson: str) -> Path:
    """A temporary course directory with our config and the lesson's source."""
    shutil.copy(ROOT / "nbgrader_config.py", tmp / "nbgrader_config.py")
    shutil.copytree(SOLUTIONS / lesson, tmp / "solutions" / lesson, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return tmp


def generate(course: Path, lesson: str) -> Path:
    """``nbgrader generate_assignment`` into course/lessons/<lesson>; returns that folder."""
    nbgrader(course, "generate_assignment", lesson, "--force")
    return course / "lessons" / lesson


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def fill_in(release: Path, source: Path) -> nbformat.NotebookNode:
    """The release notebook with every solution cell answered from the source (markers removed)."""
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in nbformat.read(source, 4).cells
               if nbgrader_meta(c).get("solution")}
    nb = nbformat.read(release, 4)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            cell.source = MARKERS.sub("", answers[meta["grade_id"]])
    return nb


def submit(course: Path, lesson: str, student: str, nb: nbformat.NotebookNode) -> None:
    folder = course / "submitted" / student / lesson
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{lesson}.ipynb")


def autograde_scores(course: Path, lesson: str, student: str) -> dict[str, tuple[float, float]]:
    """Autograde one submission; {grade_id: (auto score, max score)} for every autograded cell."""
    from nbgrader.api import Gradebook

    nbgrader(course, "autograde", lesson, "--student", student, "--force")
    with Gradebook("sqlite:///" + str(course / "gradebook.db")) as gb:
        nb = gb.find_submission_notebook(lesson, lesson, student)
        return {g.name: (g.auto_score, g.max_score) for g in nb.grades if g.auto_score is not None}
