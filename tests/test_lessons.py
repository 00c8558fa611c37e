"""Every lesson: the nbgrader conventions, the committed release in sync, and the autograde round trip.

(nbval executes every solution notebook in the quick profile: ``pytest`` collects solutions/ itself.)
"""
import ast
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from tlkit.course import check
from tlkit.course.paths import LESSONS, SOLUTIONS
from tlkit.course.grading import (LESSON_IDS, autograde_class, feedback_text, fill_in, hidden_test_lines, nbgrader_meta,
                                  partially_solved, release_differences, run_nbgrader, scores, submit)

pytestmark = pytest.mark.skipif(not LESSON_IDS, reason="no lessons yet")


def blank_crashes(executed) -> list[str]:
    """Errors of an executed blank release's non-test cells that do not say which exercise to write first
    (tlkit.lesson.stubs): only an unwritten exercise may stop a cell, and the cell must say which."""
    crashed = []
    for i, cell in enumerate(nbformat.read(executed, 4).cells):
        if cell.cell_type == "code" and not nbgrader_meta(cell).get("grade"):
            crashed += [f"cell {i}: {o.ename}: {o.evalue[:120]}" for o in cell.get("outputs", [])
                        if o.output_type == "error" and "is not written yet" not in "".join(o.traceback)]
    return crashed


def _source(lesson):
    return SOLUTIONS / lesson / f"{lesson}.ipynb"


@pytest.mark.parametrize("lesson", LESSON_IDS)
def test_graded_api_convention(lesson):
    """Solution cells define the function their grade_id names; test cells are test_<function>..."""
    functions = []
    for cell in nbformat.read(_source(lesson), 4).cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and cell.cell_type == "code":
            defined = [n.name for n in ast.parse(cell.source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
            assert meta["grade_id"] in defined, f"solution cell {meta['grade_id']!r} defines {defined}"
            functions.append(meta["grade_id"])
    assert functions, "a graded lesson has at least one exercise"
    for cell in nbformat.read(_source(lesson), 4).cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade") and cell.cell_type == "code":
            assert any(meta["grade_id"].startswith(f"test_{f}") for f in functions), meta["grade_id"]
            assert meta.get("points", 0) > 0


@pytest.mark.parametrize("lesson", LESSON_IDS)
def test_lesson_in_sync(lesson, releases):
    """lessons/<id> is exactly what nbgrader generate_assignment makes from solutions/<id> now."""
    fresh = releases / "lessons" / lesson
    committed = LESSONS / lesson
    assert committed.is_dir(), f"{committed} is missing: run nbgrader generate_assignment {lesson}"
    problems = release_differences(fresh, committed)
    assert not problems, problems


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSON_IDS)
def test_autograde_round_trip(lesson, tmp_path, copy_course, releases):
    """Solutions filled into the release earn full marks; the untouched release earns 0 and still grades; and
    ``tlkit check`` gives a partially solved notebook exactly the points nbgrader autograde gives it.

    Each notebook is graded once: one class-wide ``nbgrader autograde`` (blank, partial) and, at the same time, one
    ``tlkit check`` call (partial, solver), which is itself an ``nbgrader autograde`` run whose gradebook it reports.
    """
    course = copy_course(tmp_path / "course", [lesson])
    release = course / "lessons" / lesson / f"{lesson}.ipynb"
    notebooks = {"blank": nbformat.read(release, 4), "partial": partially_solved(release, _source(lesson))}
    saved = {}  # what a learner saves; tlkit check grades them in its own course while nbgrader grades this one
    for student, nb in (("partial", notebooks["partial"]), ("solver", fill_in(release, _source(lesson)))):
        saved[student] = tmp_path / "learner" / student / f"{lesson}.ipynb"
        saved[student].parent.mkdir(parents=True)
        nbformat.write(nb, saved[student])
    with ThreadPoolExecutor(1) as pool:  # both runs at once: grade-profile kernels use one thread each
        checked = pool.submit(check.check, [saved["partial"], saved["solver"]], generated=releases)
        for student, nb in notebooks.items():
            submit(course, lesson, student, nb)
        proc = autograde_class(course, lesson, timeout=900)
        partial, full = results = checked.result()
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]

    solved = full.test_scores()
    assert solved, "no autograded cells"
    lost = {k: v for k, v in solved.items() if v[0] != v[1]}
    assert not lost, f"the reference solutions lose points: {lost}"
    assert full.full_marks and check.exit_code([full]) == 0

    blank = scores(course, lesson, "blank")
    assert {k: m for k, (_, m) in blank.items() if k in solved} == {k: m for k, (_, m) in solved.items()}
    earned = {k: v for k, v in blank.items() if v[0] != 0}
    assert not earned, f"test cells that pass without any solution: {earned}"
    crashed = blank_crashes(course / "autograded" / "blank" / lesson / f"{lesson}.ipynb")
    assert not crashed, f"a blank release's cells fail without naming the exercise to write first: {crashed}"

    # tlkit check, as a learner runs it on saved notebooks: nbgrader's points
    hidden = hidden_test_lines(_source(lesson))
    for result in results:
        assert result.lesson == lesson
        report = check.format_result(result)
        for exercise in result.exercises:  # the table shows each exercise's points
            assert f"{exercise.points:g} / {exercise.max_points:g}" in report, report
        leaked = [line for line in hidden if line in report]
        assert not leaked, f"the report shows hidden test source: {leaked}"
    mine, autograde = partial.test_scores(), scores(course, lesson, "partial")
    assert mine == {k: autograde[k] for k in solved}, (mine, autograde)
    # the feedback each student receives: no hidden test (nbgrader_config.py's HideHiddenTests)
    run_nbgrader(course, "generate_feedback", lesson, "--force", timeout=600)
    for student in notebooks:
        text = {line.strip() for line in feedback_text(course, lesson, student).splitlines()}
        shown = [line for line in hidden if line in text]
        assert not shown, f"{student}'s feedback shows {len(shown)} of {len(hidden)} hidden-test lines: {shown[:3]}"
    if len(partial.exercises) > 1:
        assert 0 < partial.points < partial.max_points and check.exit_code(results) == 1, check.format_result(partial)
