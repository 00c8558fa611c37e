"""``tlkit check`` (tlkit/course/check.py): a learner's self-grading.

The equality with ``nbgrader autograde`` on a partially and on a fully solved notebook of EVERY lesson is checked in
tests/test_lessons.py's round trip (it already pays for those kernels). Here: an infinite loop, a dead kernel and the
untouched copy, graded in ONE check call on the fastest lesson; bad input (no grading: fast); the closing
"Check your work" cell of every lesson.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import nbformat
import pytest

from tlkit.course import check, cli, grading
from tlkit.course.grading import LESSON_IDS
from tlkit.course.paths import CHECKOUT, LESSONS, SOLUTIONS

FASTEST = "01_preprocessing"   # ~5 s per notebook in the grade profile
LOOPED = "resize_center_crop"  # the one exercise of 01 that no later cell calls: one cell timeout
CELL_TIMEOUT = 20  # seconds: the loop only has to time out (a class gets nbgrader_config.py's 60 s; lesson 01's
# grade-profile cells take up to 4 s, about 9 s on a loaded machine)
KILLED = "top1_accuracy"


def _source(lesson):
    return SOLUTIONS / lesson / f"{lesson}.ipynb"


def _release(lesson):
    return LESSONS / lesson / f"{lesson}.ipynb"


def _with_body(nb, grade_id, code):
    """``code`` put at the top of the body of the function that solution cell ``grade_id`` defines."""
    cell = next(c for c in nb.cells if grading.nbgrader_meta(c).get("grade_id") == grade_id)
    body = re.compile(r'(def \w+\(.*?\):\n(?:\s*"""[\s\S]*?"""\n)?)')
    cell.source, n = body.subn(lambda m: m.group(1) + "".join(f"    {line}\n" for line in code.splitlines()),
                               cell.source, count=1)
    assert n == 1, cell.source
    return nb


def _run(*argv, cwd=None):
    """``python -m tlkit check ARGV`` in a subprocess: (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "tlkit", "check", *map(str, argv)], capture_output=True, text=True,
                          cwd=cwd, env=grading.nbgrader_env(), timeout=600)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def runaway(tmp_path_factory, releases):
    """01 with ``while True: pass`` in one exercise, 01 whose kernel is killed in another, the untouched release:
    one check call. Returns (results, report, seconds)."""
    folder = tmp_path_factory.mktemp("learner")
    release, source = _release(FASTEST), _source(FASTEST)
    looped = _with_body(grading.fill_in(release, source), LOOPED, "while True:\n    pass")
    killed = _with_body(grading.fill_in(release, source), KILLED,
                        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    paths = []
    for name, nb in (("looped", looped), ("killed", killed)):
        paths.append(folder / name / f"{FASTEST}.ipynb")
        paths[-1].parent.mkdir()
        nbformat.write(nb, paths[-1])
    t0 = time.perf_counter()
    results = check.check(paths + [release], cell_timeout=CELL_TIMEOUT, generated=releases)
    seconds = time.perf_counter() - t0
    report = check.format_report(results, seconds)
    print(report)
    return results, report, seconds


@pytest.mark.slow
def test_infinite_loop_times_out_and_the_rest_is_graded(runaway):
    results, report, seconds = runaway
    looped = results[0]
    by_name = {e.name: e for e in looped.exercises}
    assert [t.status for t in by_name[LOOPED].tests] == ["timed out"], report
    assert by_name[LOOPED].points == 0
    others = [e for e in looped.exercises if e.name != LOOPED]
    assert others and all(e.points == e.max_points for e in others), report
    assert re.search(rf"{LOOPED}\s+0 / \d+\s+test_{LOOPED}: timed out", report), report
    assert check.exit_code([looped]) == 1
    # three notebooks of ~5-20 s and one cell timeout, far from a hang
    assert seconds < 3 * 20 + CELL_TIMEOUT + 30, f"{seconds:.0f} s"


@pytest.mark.slow
def test_dead_kernel_is_reported_at_its_exercise(runaway):
    results, report, _ = runaway
    killed = results[1]
    by_name = {e.name: e for e in killed.exercises}
    assert [t.status for t in by_name[KILLED].tests] == ["kernel died"], report
    assert f"in test_{KILLED}" in by_name[KILLED].tests[0].message
    assert killed.points == 0 and "kernel died" in killed.problem  # nbgrader grades nothing of that notebook
    assert {t.status for e in killed.exercises if e.name != KILLED for t in e.tests} == {"not graded"}


@pytest.mark.slow
def test_untouched_copy_scores_zero(runaway):
    results, report, _ = runaway
    blank = results[2]
    assert blank.points == 0 and blank.max_points > 0
    assert all(t.status == "failed" and t.message.startswith("NotImplementedError: write ") for e in blank.exercises
               for t in e.tests), report
    assert all(state.startswith("unanswered") for _, _, state in blank.manual)
    assert "to be read by a person" in check.format_result(results[0])


@pytest.mark.slow
def test_report_shows_no_hidden_test_source(runaway):
    _, report, _ = runaway
    hidden = grading.hidden_test_lines(_source(FASTEST))
    assert hidden, "lesson 01 has hidden tests"
    assert not [line for line in hidden if line in report]
    assert "Traceback" not in report and "---->" not in report


@pytest.mark.slow
def test_nothing_written_into_the_repo(runaway):
    status = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
                            cwd=CHECKOUT, capture_output=True, text=True).stdout
    assert "autograded/" not in status and "submitted/" not in status and "tlkit-check" not in status, status


# --- bad input: exit 2 and one line, before anything is graded ---

def _main(capsys, *argv):
    code = cli.main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_bad_input(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    broken = tmp_path / f"{FASTEST}.ipynb"
    broken.write_text(_release(FASTEST).read_text()[:-300])
    plain = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), plain)
    cases = {
        (text,): "is not a notebook",
        (tmp_path,): "is a folder, not a notebook",
        (tmp_path / "missing.ipynb",): "no such file",
        (broken,): "malformed JSON",
        (plain,): "is not one of our lessons: it has no nbgrader cells",
        ("99_no_such_lesson",): "unknown lesson '99_no_such_lesson'",
        (): "nothing to check",
        ("--all", FASTEST): "not both",
    }
    for argv, message in cases.items():
        code, out, err = _main(capsys, *argv)
        assert code == 2, (argv, out, err)
        assert message in err and len(err.strip().splitlines()) == 1, (argv, err)
        assert not out


def test_no_instructor_source_points_to_validate(tmp_path, capsys):
    """A student copy of the course (lessons/ without solutions/): say so, point to nbgrader validate."""
    empty = tmp_path / "solutions"
    empty.mkdir()
    for argv in ((FASTEST,), (_release(FASTEST),), ("--all",)):
        code, out, err = _main(capsys, "--solutions", empty, *argv)
        assert code == 2, (argv, out, err)
        assert "nbgrader validate" in err and len(err.strip().splitlines()) == 1, (argv, err)
    assert "no instructor source for 01_preprocessing" in _main(capsys, "--solutions", empty, FASTEST)[2]


def test_command_line_entry_points(tmp_path):
    """``python -m tlkit check`` and the ``tlkit`` console script; a lesson found by id from its own folder."""
    code, out, err = _run("notes.txt", cwd=tmp_path)
    assert code == 2 and "no such file" in err and not out, err
    script = os.path.join(os.path.dirname(sys.executable), "tlkit")
    if os.path.exists(script):
        proc = subprocess.run([script, "check", "--help"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and "PATH_OR_ID" in proc.stdout


def test_lessons_found_by_id(tmp_path, monkeypatch):
    """By id: <id>.ipynb in the current folder (``!tlkit check <id>`` runs in the notebook's folder), <id>/<id>.ipynb,
    lessons/<id>/, then the checkout's lessons/<id>/."""
    assert check.resolve(FASTEST) == (FASTEST, _release(FASTEST))
    monkeypatch.chdir(tmp_path)
    assert check.resolve(FASTEST) == (FASTEST, _release(FASTEST))
    mine = tmp_path / "lessons" / FASTEST / f"{FASTEST}.ipynb"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(_release(FASTEST).read_bytes())
    assert check.resolve(FASTEST) == (FASTEST, mine)
    monkeypatch.chdir(mine.parent)
    assert check.resolve(FASTEST)[1].resolve() == mine.resolve()
    copy = tmp_path / "Untitled-Copy1.ipynb"  # any name: the lesson is recognized by its graded cells
    copy.write_bytes(_release(FASTEST).read_bytes())
    assert check.identify(copy) == FASTEST


def test_layout_maps_test_cells_to_their_exercise():
    exercises, manual = check.layout(_source("03_forgetting"))
    tests = dict(exercises)
    assert [t for t, _ in tests["fisher_diagonal"]] == ["test_fisher_diagonal",
                                                        "test_fisher_diagonal_leaves_model_unchanged"]
    assert [g for g, _ in manual] == ["answer_which_cure"]
    exercises, _ = check.layout(_source("02_freezing"))
    tests = dict(exercises)
    assert [t for t, _ in tests["freeze"]] == ["test_freeze"]  # not test_freeze_batchnorm / test_freeze_stages
    assert [t for t, _ in tests["freeze_batchnorm"]] == ["test_freeze_batchnorm"]


# --- every lesson tells the learner to check their work ---

@pytest.mark.parametrize("lesson", LESSON_IDS)
def test_lesson_ends_with_check_your_work(lesson):
    cells = nbformat.read(_source(lesson), 4).cells
    assert cells[-1].cell_type == "code" and "elapsed()" in cells[-1].source, "the last cell prints the time"
    cell = cells[-2]
    assert cell.cell_type == "markdown" and cell.source.startswith("## Check your work"), cell.source[:200]
    assert f"`tlkit check {lesson}`" in cell.source and f"`!tlkit check {lesson}`" in cell.source, cell.source
    assert "Save the notebook" in cell.source
