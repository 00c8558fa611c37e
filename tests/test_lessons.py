"""Every lesson: the nbgrader conventions, the committed release in sync, and the autograde round trip.

(nbval executes every solution notebook in the quick profile: ``pytest`` collects solutions/ itself.)
"""
import ast

import nbformat
import pytest

from tlkit.grading import (LESSON_IDS, LESSONS, SOLUTIONS, autograde_scores, fill_in, generate, nbgrader_meta,
                           new_course, release_differences, submit)

pytestmark = pytest.mark.skipif(not LESSON_IDS, reason="no lessons yet")


def _source(lesson):
    return SOLUTIONS / lesson / f"{lesson}.ipynb"


@pytest.mark.parametrize("lesson", LESSON_IDS)
def test_graded_api_convention(lesson):
    """Solution cells define the function their grade_id names; test cells are test_<function>..."""
    functions = []
    for cell in nbformat.read(_source(lesson), 4).cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and cell.cell_type == "code":
            defined = [n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)]
            assert meta["grade_id"] in defined, f"solution cell {meta['grade_id']!r} defines {defined}"
            functions.append(meta["grade_id"])
    assert functions, "a graded lesson has at least one exercise"
    for cell in nbformat.read(_source(lesson), 4).cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade") and cell.cell_type == "code":
            assert any(meta["grade_id"].startswith(f"test_{f}") for f in functions), meta["grade_id"]
            assert meta.get("points", 0) > 0


@pytest.mark.parametrize("lesson", LESSON_IDS)
def test_lesson_in_sync(lesson, tmp_path):
    """lessons/<id> is exactly what nbgrader generate_assignment makes from solutions/<id> now."""
    fresh = generate(new_course(tmp_path, lesson), lesson)
    committed = LESSONS / lesson
    assert committed.is_dir(), f"{committed} is missing: run nbgrader generate_assignment {lesson}"
    problems = release_differences(fresh, committed)
    assert not problems, problems


@pytest.mark.parametrize("lesson", LESSON_IDS)
def test_autograde_round_trip(lesson, tmp_path):
    """Solutions filled into the release earn full marks; the untouched release earns 0 and still grades."""
    course = new_course(tmp_path, lesson)
    release = generate(course, lesson) / f"{lesson}.ipynb"
    submit(course, lesson, "solver", fill_in(release, _source(lesson)))
    submit(course, lesson, "blank", nbformat.read(release, 4))

    solved = autograde_scores(course, lesson, "solver")
    assert solved, "no autograded cells"
    lost = {k: v for k, v in solved.items() if v[0] != v[1]}
    assert not lost, f"the reference solutions lose points: {lost}"

    blank = autograde_scores(course, lesson, "blank")
    assert set(solved) <= set(blank)  # blank also auto-scores its unanswered written answers (0 points)
    earned = {k: v for k, v in blank.items() if v[0] != 0}
    assert not earned, f"test cells that pass without any solution: {earned}"
