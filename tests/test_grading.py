"""Grading that survives tampering (issue 17), the nbgrader pipeline on a tiny fixture lesson, and the sandbox.

The tampering cases are built from lesson 01_preprocessing (the lightest) and graded in ONE class-wide
``nbgrader autograde 01_preprocessing`` run, which is also the check that the class run always completes.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import nbformat
import pytest

from tlkit.course import audit, grading, nbgrader_ext
from tlkit.course.paths import FIXTURES, SOLUTIONS

LESSON = "01_preprocessing"
TINY = "tiny"
FULL = 16.0  # autograded points of lesson 01
CELL_TIMEOUT = 20  # seconds: the runaway's infinite loop only has to time out (a class gets nbgrader_config.py's 60 s;
# lesson 01's grade-profile cells take up to 4 s, about 9 s on a loaded machine)


def cheats_lesson01(release, source):
    """Cases the grader cannot make fair inside the kernel: the audit sends them to manual review (not executed)."""
    nb = grading.fill_in(release, source)
    grading.append_to_cell(nb, "apply_preset", "torch.allclose = lambda *a, **k: True\nnp.allclose = torch.allclose")
    grading.append_to_cell(nb, "guess_preset", "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])")
    files = grading.fill_in(release, source)
    grading.append_to_cell(files, "to_batch", "print(open('../../../solutions/01_preprocessing/01_preprocessing.ipynb')"
                                              ".read())\nimport sqlite3\nsqlite3.connect('/srv/course/gradebook.db')")
    return {"cheat": nb, "snoop": files}


@pytest.fixture(scope="module")
def tampered(tmp_path_factory, copy_course):
    """A course with the tampered lesson-01 submissions, graded in one class run; returns (course, proc, seconds)."""
    course = copy_course(tmp_path_factory.mktemp("tampered") / "course", [LESSON])
    release = course / "lessons" / LESSON / f"{LESSON}.ipynb"
    source = SOLUTIONS / LESSON / f"{LESSON}.ipynb"
    for student, nb in grading.tampered_01(release, source).items():
        if isinstance(nb, tuple):
            grading.submit(course, LESSON, student, nb[1], name=nb[0][:-len(".ipynb")])
        else:
            grading.submit(course, LESSON, student, nb)
    t0 = time.perf_counter()
    proc = grading.autograde_class(course, LESSON, f"--Execute.timeout={CELL_TIMEOUT}", timeout=900)
    seconds = time.perf_counter() - t0
    for student, nb in cheats_lesson01(release, source).items():
        grading.submit(course, LESSON, student, nb)
    return course, proc, seconds


def _scores(course, student):
    return grading.scores(course, LESSON, student)


@pytest.mark.slow
def test_class_run_completes_and_is_bounded(tampered):
    course, proc, seconds = tampered
    log = proc.stdout + proc.stderr
    # the two unreadable submissions are reported by name, every other student is graded
    assert "for student 'malformed'" in log and "for student 'misnamed'" in log, log[-3000:]
    assert "old version of the nbgrader metadata" not in log
    for student in ("cells", "dupes", "runaway"):
        assert (course / "autograded" / student / LESSON / f"{LESSON}.ipynb").is_file(), (student, log[-3000:])
    # 3 executed notebooks (~5-25 s each) + one cell timeout; was 1,226 s for the infinite loop alone
    assert seconds < 3 * 60 + CELL_TIMEOUT + 60, f"class run took {seconds:.0f} s"


@pytest.mark.slow
def test_deleted_stripped_and_warning_cells_earn_full_marks(tampered):
    course, _, _ = tampered
    score = _scores(course, "cells")
    assert set(score) >= {"test_to_batch", "test_resize_center_crop", "test_apply_preset"}
    assert grading.total(score) == (FULL, FULL), score
    assert not {g for g in grading.needs_manual_grade(course, LESSON, "cells") if g.startswith("test_")}


@pytest.mark.slow
def test_duplicated_grade_id_and_missing_schema_version_grade(tampered):
    course, _, _ = tampered
    score = _scores(course, "dupes")
    assert grading.total(score) == (FULL, FULL), score


@pytest.mark.slow
def test_infinite_loop_and_os_exit_lose_only_their_exercise(tampered):
    course, _, _ = tampered
    score = _scores(course, "runaway")
    lost = {k for k, (s, m) in score.items() if s != m}
    assert lost == {"test_top1_accuracy", "test_guess_preset"}, score
    assert grading.total(score) == (FULL - 2 - 4, FULL)
    graded = nbformat.read(course / "autograded" / "runaway" / LESSON / f"{LESSON}.ipynb", 4)
    errors = [o.get("ename") for c in graded.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert "SystemExit" in errors, errors


@pytest.mark.slow
def test_unreadable_submissions_are_not_graded(tampered):
    course, _, _ = tampered
    for student in ("malformed", "misnamed"):
        assert not (course / "autograded" / student / LESSON).exists()


@pytest.mark.slow
def test_audit_flags_the_tampered_set(tampered):
    course, _, _ = tampered
    result = audit.audit(course, LESSON, release=course / "lessons" / LESSON / f"{LESSON}.ipynb")
    report = audit.format_flags(result, LESSON)
    print(report)
    text = {s: "\n".join(f.what for f in fs) for s, fs in result.items()}
    assert "graded cell 'test_to_batch' deleted" in text["cells"]
    assert "nbgrader metadata removed from 'test_resize_center_crop'" in text["cells"]
    assert "duplicated" in text["dupes"] and "schema_version 3 -> None" in text["dupes"]
    assert "os._exit" in text["runaway"]
    assert "malformed notebook" in text["malformed"]
    assert "rename to 01_preprocessing.ipynb" in text["misnamed"] and "01_preprocessing-Copy1" in text["misnamed"]
    assert "torch.allclose" in text["cheat"] and "np.allclose" in text["cheat"]
    assert "input_transformers_post" in text["cheat"]
    assert "../../../solutions" in text["snoop"] and "gradebook.db" in text["snoop"] and "sqlite3" in text["snoop"]
    assert all(result.values()), "every tampered submission is flagged"


# --- the pipeline on the tiny fixture lesson (seconds) ---

def _tiny_course(tmp_path):
    course = grading.new_course(tmp_path, TINY, FIXTURES)
    release = grading.generate(course, TINY) / f"{TINY}.ipynb"
    return course, release


def test_fixture_is_not_a_lesson():
    assert TINY not in grading.LESSON_IDS
    assert grading.lesson_ids(FIXTURES) == [TINY]


def test_tiny_pipeline(tmp_path):
    """generate (in sync with the committed fixture release), fill in, autograde: full marks, blank 0, clean audit."""
    course, release = _tiny_course(tmp_path)
    assert grading.release_differences(release.parent, FIXTURES / "release" / TINY) == []
    (release.parent / ".ipynb_checkpoints").mkdir()
    (release.parent / ".ipynb_checkpoints" / f"{TINY}-checkpoint.ipynb").write_text("{}")
    assert grading.release_differences(release.parent, FIXTURES / "release" / TINY) == [], "hidden files ignored"
    grading.submit(course, TINY, "solver", grading.fill_in(release, FIXTURES / TINY / f"{TINY}.ipynb"))
    grading.submit(course, TINY, "blank", nbformat.read(release, 4))
    bonus = grading.fill_in(release, FIXTURES / TINY / f"{TINY}.ipynb")  # a made-up graded cell worth 50 points
    bonus.cells.append(nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {
        "grade": True, "grade_id": "test_bonus", "points": 50, "locked": True, "solution": False, "schema_version": 3}}))
    grading.submit(course, TINY, "bonus", bonus)
    proc = grading.autograde_class(course, TINY, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert grading.total(grading.scores(course, TINY, "solver")) == (3.0, 3.0)
    assert grading.total(grading.scores(course, TINY, "blank")) == (0.0, 3.0)
    assert grading.total(grading.scores(course, TINY, "bonus")) == (3.0, 3.0)
    result = audit.audit(course, TINY, release=release)
    assert result["solver"] == result["blank"] == []
    assert [f.what for f in result["bonus"]] == ["unknown graded cell 'test_bonus' added"]


def test_nbgrader_finds_alembic_without_path(tmp_path):
    """The config puts this Python's bin/ on PATH itself: a gradebook is created with an empty PATH."""
    course, _ = _tiny_course(tmp_path)
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "nbgrader", "db", "assignment", "add", "other"], cwd=course,
                          env={"PATH": "", "HOME": str(tmp_path)}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "alembic" not in proc.stderr


SNOOP = '''
import os, socket
found = {}
for name, path in [("gradebook", "../../../gradebook.db"), ("gradebook_abs", COURSE + "/gradebook.db"),
                   ("solutions", COURSE + "/solutions/tiny/tiny.ipynb"),
                   ("other_student", COURSE + "/submitted/solver/tiny/tiny.ipynb")]:
    try:
        open(path, "rb").read(16)
        found[name] = "READ"
    except OSError as err:
        found[name] = "denied"
try:
    open(COURSE + "/planted.txt", "w").write("x")
    found["write_course_root"] = "WRITTEN"
except OSError:
    found["write_course_root"] = "denied"
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    found["network"] = "CONNECTED"
except OSError:
    found["network"] = "denied"
found["uid"] = os.getuid()
print("SANDBOX", found)
'''


@pytest.mark.slow
def test_sandboxed_autograde(tmp_path):
    """TLKIT_SANDBOX=1: student code sees no gradebook, solutions, other submissions, network; answers still score."""
    why = nbgrader_ext.sandbox_available()
    if why:
        pytest.skip(f"sandbox not available on this machine: {why}")
    course, release = _tiny_course(tmp_path)
    source = FIXTURES / TINY / f"{TINY}.ipynb"
    grading.submit(course, TINY, "solver", grading.fill_in(release, source))
    nb = grading.fill_in(release, source)
    grading.append_to_cell(nb, "add", f"COURSE = {str(course)!r}\n" + SNOOP)
    grading.submit(course, TINY, "snoop", nb)
    loop = grading.fill_in(release, source)  # the cell timeout must still interrupt a sandboxed kernel
    i = grading.cell_index(loop, "add")
    loop.cells[i].source = loop.cells[i].source.replace('"""\n', '"""\n    while a == 1:\n        pass\n', 1)
    grading.submit(course, TINY, "loop", loop)
    proc = grading.autograde_class(course, TINY, "--Execute.timeout=5", timeout=300, env={"TLKIT_SANDBOX": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert grading.total(grading.scores(course, TINY, "snoop")) == (3.0, 3.0)
    assert grading.scores(course, TINY, "loop") == {"test_add": (0.0, 1.0), "test_mean": (2.0, 2.0)}
    graded = nbformat.read(course / "autograded" / "snoop" / TINY / f"{TINY}.ipynb", 4)
    text = "".join(o.get("text", "") for c in graded.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "SANDBOX" in text, text
    line = next(l for l in text.splitlines() if l.startswith("SANDBOX"))
    assert "READ" not in line and "WRITTEN" not in line and "CONNECTED" not in line, line
    assert "'uid': 0" not in line, line
    assert not (course / "planted.txt").exists()


@pytest.mark.slow
def test_sandbox_finds_a_python_environment_under_tmp(tmp_path):
    """The sandbox's private /tmp must not hide the kernel's own Python: a venv made in a temporary folder (as a
    fresh-clone CI job often does) grades like any other (was: "Kernel died before replying to kernel_info")."""
    why = nbgrader_ext.sandbox_available()
    if why:
        pytest.skip(f"sandbox not available on this machine: {why}")
    venv = tmp_path / "venv"  # under /tmp: pytest's tmp_path
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    course, release = _tiny_course(tmp_path)
    grading.submit(course, TINY, "solver", grading.fill_in(release, FIXTURES / TINY / f"{TINY}.ipynb"))
    env = {**grading.nbgrader_env(), "TLKIT_SANDBOX": "1"}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    proc = subprocess.run([str(python), "-m", "nbgrader", "autograde", TINY, "--force"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Kernel died" not in proc.stderr, proc.stderr[-3000:]
    assert grading.total(grading.scores(course, TINY, "solver")) == (3.0, 3.0)
