"""The classroom cycle on one machine, as the README tells it: release -> two students fetch, work, submit ->
collect -> autograde -> generate / release / fetch feedback -> export.

nbgrader takes a student's name from the OS account (``pwd``, not ``$USER``; ``JUPYTERHUB_USER`` only for the
account ``jovyan``), so the two simulated students are two processes with their own home, Jupyter data dir (where
``nbgrader submit`` caches submissions for ``fetch_feedback``) and ``--student``.
"""
import csv
import sys

import nbformat
import pytest

from tlkit.course.grading import fill_in, nbgrader_meta, run_nbgrader

LESSON = "01_preprocessing"  # the lightest lesson
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform == "win32", reason="nbgrader's exchange needs a POSIX file system")]


def _student_env(home, name):
    return {"HOME": str(home), "USER": name, "LOGNAME": name,
            "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter")}


def test_classroom_cycle(tmp_path, copy_course):
    course = copy_course(tmp_path / "course", [LESSON])  # generated (tests/conftest.py's releases)
    instructor = {"TLKIT_EXCHANGE": ""}  # the course-local default, exchange/ next to nbgrader_config.py
    source = course / "solutions" / LESSON / f"{LESSON}.ipynb"
    run_nbgrader(course, "release_assignment", LESSON, env=instructor)
    exchange = course / "exchange"
    assert (exchange / "tlkit" / "outbound" / LESSON / f"{LESSON}.ipynb").is_file()

    students = {"ada": "solved", "bo": "blank"}
    homes = {}
    for name, work in students.items():
        home = homes[name] = tmp_path / name
        home.mkdir()
        env, where = _student_env(home, name), ["--course", "tlkit", f"--Exchange.root={exchange}"]
        run_nbgrader(home, "fetch_assignment", LESSON, *where, env=env)
        notebook = home / LESSON / f"{LESSON}.ipynb"
        assert notebook.is_file()
        if work == "solved":
            nbformat.write(fill_in(notebook, source), notebook)
        run_nbgrader(home, "submit", LESSON, *where, "--student", name, env=env)

    run_nbgrader(course, "collect", LESSON, env=instructor)
    for name in students:
        assert (course / "submitted" / name / LESSON / f"{LESSON}.ipynb").is_file()
    run_nbgrader(course, "autograde", LESSON, env=instructor)
    run_nbgrader(course, "generate_feedback", LESSON, env=instructor)
    run_nbgrader(course, "release_feedback", LESSON, env=instructor)

    for name in students:
        home = homes[name]
        run_nbgrader(home, "fetch_feedback", LESSON, "--course", "tlkit", f"--Exchange.root={exchange}",
                     "--student", name, env=_student_env(home, name))
        feedback = list((home / LESSON / "feedback").glob(f"*/{LESSON}.html"))
        assert len(feedback) == 1, f"{name} got feedback {feedback}"
        assert "Score:" in feedback[0].read_text(), "the feedback page shows the score"

    run_nbgrader(course, "export", env=instructor)
    with open(course / "grades.csv") as fh:
        grades = {row["student_id"]: row for row in csv.DictReader(fh) if row["assignment"] == LESSON}
    points = {"auto": 0.0, "all": 0.0}
    for cell in nbformat.read(source, 4).cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade"):
            points["all"] += meta["points"]
            points["auto"] += meta["points"] if cell.cell_type == "code" else 0
    assert set(grades) == set(students)
    for name, row in grades.items():
        assert float(row["max_score"]) == points["all"]
    # the written answer waits for a person; every autograded point is earned by the solutions, none by the blank
    assert float(grades["ada"]["score"]) == points["auto"] > 0
    assert float(grades["bo"]["score"]) == 0
    print(f"\nclassroom cycle: ada {grades['ada']['score']}/{points['all']}, bo {grades['bo']['score']}/{points['all']}"
          f" (written answer of {points['all'] - points['auto']:g} points left for manual grading); feedback fetched")
