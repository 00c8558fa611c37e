"""``tlkit grade`` (issue 26): the class graded in parallel writes exactly what ``nbgrader autograde`` writes; re-runs
skip, --student regrades; a killed worker, a --timeout and two runs at once leave a consistent gradebook; shards
split the class; the gradebook on a real PostgreSQL server.

Everything runs on the tiny fixture lesson (seconds per student), with one graded written answer added so that
"needs manual grade" and comments are compared too.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from tlkit.course import grade, grading
from tlkit.course.paths import FIXTURES

TINY = "tiny"
TIMESTAMP = "2026-01-10 10:00:00.000000 UTC"
WRITTEN = {"grade": True, "solution": True, "grade_id": "why", "points": 1, "locked": False, "schema_version": 3,
           "task": False}


def tiny_course(folder: Path) -> tuple[Path, Path, Path]:
    """A course of the tiny lesson plus a graded written answer: (course, release notebook, source notebook)."""
    source_root = folder / "source"
    source = source_root / TINY / f"{TINY}.ipynb"
    source.parent.mkdir(parents=True)
    nb = nbformat.read(FIXTURES / TINY / f"{TINY}.ipynb", 4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Why does `mean` reject an empty list?\n\n"
                                                  "### BEGIN SOLUTION\nIt has no mean.\n### END SOLUTION",
                                                  metadata={"nbgrader": WRITTEN}))
    nbformat.write(nb, source)
    (folder / "course").mkdir()
    course = grading.new_course(folder / "course", TINY, source_root)
    release = grading.generate(course, TINY) / f"{TINY}.ipynb"
    return course, release, source


def submit(course: Path, student: str, nb, name: str | None = None, timestamp: str = TIMESTAMP) -> None:
    path = grading.submit(course, TINY, student, nb, name=name)
    (path.parent / "timestamp.txt").write_text(timestamp)


def tlkit_grade(course: Path, *options: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tlkit", "grade", TINY, "--course", str(course), "--no-progress",
                           *options], capture_output=True, text=True, timeout=timeout)


def start_tlkit_grade(course: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tlkit", "grade", TINY, "--course", str(course), "--no-progress",
                             *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def grades(course: Path, url: str | None = None) -> dict:
    return grade.class_grades(url or f"sqlite:///{course / 'gradebook.db'}", TINY, "tlkit")


def graded_files(course: Path) -> dict[str, list[str]]:
    return {p.name: grading.visible_files(p / TINY) for p in sorted((course / "autograded").glob("*"))
            if (p / TINY).is_dir()}


def outcome_lines(report: str) -> dict[str, str]:
    """{student: result} from the time table of a ``tlkit grade`` report (students graded or failed in that run)."""
    rows = [line.split() for line in report.splitlines()]
    return {r[0]: r[1] for r in rows if len(r) >= 2 and r[1] in ("graded", "failed")}


@pytest.fixture(scope="module")
def mixed_class(tmp_path_factory):
    """A mixed class graded twice from the same submissions: plain ``nbgrader autograde`` (course A) and
    ``tlkit grade --workers 2`` (course B). Returns (A, B, tlkit's process, release, source)."""
    course, release, source = tiny_course(tmp_path_factory.mktemp("mixed"))
    submit(course, "solver", grading.fill_in(release, source))
    submit(course, "blank", nbformat.read(release, 4))
    submit(course, "partial", grading.fill_in(release, source, only={"add"}))
    submit(course, "malformed", nbformat.writes(grading.fill_in(release, source))[:-150])
    submit(course, "misnamed", grading.fill_in(release, source), name=f"{TINY}-Copy1")
    died = grading.fill_in(release, source)
    i = next(i for i, c in enumerate(died.cells) if grading.nbgrader_meta(c).get("grade_id") == "mean")
    died.cells[i].source += "\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
    submit(course, "died", died)
    other = course.parent / "tlkit"
    shutil.copytree(course, other)
    assert grading.autograde_class(course, TINY, timeout=300).returncode == 1  # nbgrader: 3 students failed
    proc = tlkit_grade(other, "--workers", "2")
    return course, other, proc, release, source


@pytest.mark.slow
def test_same_gradebook_as_nbgrader_autograde(mixed_class):
    nbgrader, tlkit, proc, _, _ = mixed_class
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    expected = grades(nbgrader)
    assert set(expected) == {"solver", "blank", "partial", "malformed", "misnamed", "died"}
    assert grades(tlkit) == expected  # every grade's auto_score and needs_manual_grade, comments, timestamps
    assert expected["solver"]["grades"]["tiny/test_mean"] == (2.0, False)
    assert expected["solver"]["grades"]["tiny/why"] == (None, True)  # the written answer waits for a person
    assert expected["partial"]["grades"]["tiny/test_mean"] == (0.0, False)
    assert graded_files(tlkit) == graded_files(nbgrader) == {s: ["timestamp.txt", "tiny.ipynb"]
                                                             for s in ("blank", "partial", "solver")}


@pytest.mark.slow
def test_report_lists_every_failure_with_its_reason(mixed_class):
    _, course, proc, _, _ = mixed_class
    print(proc.stdout)
    assert outcome_lines(proc.stdout) == {"blank": "graded", "died": "failed", "malformed": "failed",
                                          "misnamed": "failed", "partial": "graded", "solver": "graded"}
    out = proc.stdout
    assert "failed: died: kernel died" in out
    assert "failed: malformed: malformed notebook (NotJSONError" in out
    assert "failed: misnamed: misnamed: no tiny.ipynb in submitted/misnamed/tiny/ (found tiny-Copy1.ipynb)" in out
    assert "tiny: 3 graded, 3 failed, 0 skipped" in out
    assert " 3/4 " in next(line for line in out.splitlines() if line.startswith("solver"))
    assert not list((course / grade.WORK / TINY).glob("*/")), "no private course left behind"


@pytest.mark.slow
def test_rerun_skips_force_and_student_regrade_resubmission_regrades(mixed_class, tmp_path):
    _, graded, _, release, source = mixed_class
    course = tmp_path / "course"
    shutil.copytree(graded, course)
    for student in ("malformed", "misnamed", "died"):
        shutil.rmtree(course / "submitted" / student)
    proc = tlkit_grade(course)
    assert proc.returncode == 0 and outcome_lines(proc.stdout) == {}, proc.stdout + proc.stderr[-2000:]
    assert "0 graded, 0 failed, 3 skipped" in proc.stdout
    proc = tlkit_grade(course, "--student", "blank")
    assert outcome_lines(proc.stdout) == {"blank": "graded"}, proc.stdout
    submit(course, "partial", grading.fill_in(release, source), timestamp="2026-01-11 09:00:00.000000 UTC")
    before = grades(course)
    proc = tlkit_grade(course)
    assert outcome_lines(proc.stdout) == {"partial": "graded"} and "2 skipped" in proc.stdout, proc.stdout
    after = grades(course)
    assert after["partial"]["grades"]["tiny/test_mean"] == (2.0, False)
    assert str(after["partial"]["timestamp"]).startswith("2026-01-11 09:00:00")
    assert {s: after[s] for s in ("solver", "blank")} == {s: before[s] for s in ("solver", "blank")}
    proc = tlkit_grade(course, "--force", "--workers", "3")
    assert outcome_lines(proc.stdout) == {"blank": "graded", "partial": "graded", "solver": "graded"}, proc.stdout
    assert grades(course) == after


HANG = """
import os, time
if not os.path.exists({go!r}):  # the test SIGKILLs this kernel's parent (the worker) once it has said where it is
    with open({started!r} + ".tmp", "w") as f:
        f.write(str(os.getppid()))
    os.rename({started!r} + ".tmp", {started!r})
    time.sleep(600)
"""


def wait_for(path: Path, seconds: float = 180) -> str:
    end = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.2)
    return path.read_text()


@pytest.mark.slow
def test_killed_worker_and_timeout_write_nothing_and_the_next_run_grades(tmp_path):
    course, release, source = tiny_course(tmp_path)
    go, started = tmp_path / "go", tmp_path / "started"
    victim = grading.fill_in(release, source)
    i = next(i for i, c in enumerate(victim.cells) if grading.nbgrader_meta(c).get("grade_id") == "add")
    victim.cells[i].source += HANG.format(go=str(go), started=str(started))
    go.write_text("")
    submit(course, "solver", grading.fill_in(release, source))
    submit(course, "victim", victim)
    assert tlkit_grade(course, "--workers", "2").returncode == 0
    first = grades(course)
    assert first["victim"]["grades"]["tiny/test_add"] == (1.0, False)
    graded_copy = (course / "autograded" / "victim" / TINY / f"{TINY}.ipynb").read_bytes()

    # the victim resubmits (blank: would score 0) and its worker is killed mid-student
    go.unlink()
    blank = nbformat.read(release, 4)
    blank.cells.insert(i + 1, nbformat.v4.new_code_cell(HANG.format(go=str(go), started=str(started))))
    submit(course, "victim", blank, timestamp="2026-01-12 08:00:00.000000 UTC")
    run = start_tlkit_grade(course, "--workers", "2")
    worker = int(wait_for(started))
    os.kill(worker, signal.SIGKILL)
    out, err = run.communicate(timeout=180)
    assert run.returncode == 1, out + err[-2000:]
    assert "failed: victim: worker killed (SIGKILL) mid-student" in out, out
    assert grades(course) == first, "no half-written grade"
    assert (course / "autograded" / "victim" / TINY / f"{TINY}.ipynb").read_bytes() == graded_copy
    assert not (course / grade.WORK / TINY / "victim").exists()

    # a worker that runs past --timeout is killed the same way
    started.unlink()
    proc = tlkit_grade(course, "--timeout", "12")
    assert proc.returncode == 1 and "failed: victim: timed out after 12 s" in proc.stdout, proc.stdout
    assert outcome_lines(proc.stdout) == {"victim": "failed"}, "solver was skipped"
    assert grades(course) == first

    # the next run (nothing hangs now) grades the victim's new submission
    go.write_text("")
    proc = tlkit_grade(course)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert outcome_lines(proc.stdout) == {"victim": "graded"}, proc.stdout
    now = grades(course)
    assert now["victim"]["grades"]["tiny/test_add"] == (0.0, False)
    assert str(now["victim"]["timestamp"]).startswith("2026-01-12 08:00:00")
    assert now["solver"] == first["solver"]


SOLVERS, BLANKS = ("ada", "cyd"), ("bob", "dee")  # shard 0/2: ada, bob; shard 1/2: cyd, dee


def four_students(tmp_path) -> Path:
    course, release, source = tiny_course(tmp_path)
    for student in SOLVERS:
        submit(course, student, grading.fill_in(release, source))
    for student in BLANKS:
        submit(course, student, nbformat.read(release, 4))
    return course


@pytest.mark.slow
def test_two_runs_at_once_grade_each_student_once(tmp_path):
    course = four_students(tmp_path)
    runs = [start_tlkit_grade(course, "--workers", "2") for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    graded = [outcome_lines(out) for out in outputs]
    assert sorted(s for g in graded for s in g) == sorted(SOLVERS + BLANKS), outputs
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM submitted_assignment").fetchone() == (4,)
    scores = {s: g["grades"]["tiny/test_add"][0] + g["grades"]["tiny/test_mean"][0] for s, g in grades(course).items()}
    assert scores == {**{s: 3.0 for s in SOLVERS}, **{s: 0.0 for s in BLANKS}}


def test_shards_are_stable_disjoint_and_cover_the_class():
    students = [f"student{n:03d}" for n in range(200)]
    for count in (1, 2, 3, 7):
        shards = [{s for s in students if grade.in_shard(s, i, count)} for i in range(count)]
        assert set().union(*shards) == set(students)
        assert sum(len(s) for s in shards) == len(students), "pairwise disjoint"
        assert all(len(s) > 200 / count / 2 for s in shards), [len(s) for s in shards]
        more = students + [f"late{n}" for n in range(50)]
        for i, shard in enumerate(shards):  # students added later do not move anyone
            assert {s for s in more if grade.in_shard(s, i, count)} & set(students) == shard
    assert grade.parse_shard("3/10") == (3, 10)
    for bad in ("10/10", "-1/3", "1", "a/b", "0/0"):
        with pytest.raises(grade.BadInput):
            grade.parse_shard(bad)


@pytest.mark.slow
def test_shard_runs_at_once_split_the_class(tmp_path):
    course = four_students(tmp_path)
    runs = [start_tlkit_grade(course, "--shard", f"{i}/2", "--workers", "1") for i in range(2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert [set(outcome_lines(out)) for out in outputs] == [{"ada", "bob"}, {"cyd", "dee"}], outputs
    assert set(grades(course)) == set(SOLVERS + BLANKS)


@pytest.mark.slow
def test_bad_input_exits_2_with_one_line(tmp_path, mixed_class):
    _, course, _, _, _ = mixed_class
    proc = tlkit_grade(course, "--student", "nobody")
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"tlkit grade: no submission of tiny by nobody in {course / 'submitted'}"], proc.stderr
    (tmp_path / "nbgrader_config.py").write_text("")  # a course whose gradebook has no such assignment
    shutil.copytree(course / "submitted", tmp_path / "submitted")
    cases = [((course, TINY), {"workers": 0}, "--workers 0"), ((course, TINY), {"shard": "2/2"}, "--shard 2/2"),
             ((course, "nope"), {}, "no submissions of nope"), ((tmp_path / "none", TINY), {}, "no nbgrader_config.py"),
             ((tmp_path, TINY), {}, "no assignment tiny in the gradebook")]
    for args, options, message in cases:
        with pytest.raises(grade.BadInput, match=message):
            grade.grade(*args, **options)


# --- the gradebook on PostgreSQL ---

def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture
def postgres():
    """A PostgreSQL server of its own on a unix socket in a temporary folder (as user nobody when the tests run as
    root: the server refuses root); yields the database URL of an empty database."""
    pg = _postgres_bin()
    if pg is None:
        pytest.skip("PostgreSQL is not installed (Debian/Ubuntu: apt-get install postgresql)")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        pytest.skip("psycopg2 is not installed (pip install -e '.[dev]')")
    folder = Path(tempfile.mkdtemp(prefix="tlkit-pg-"))
    user = pwd.getpwuid(os.getuid()).pw_name
    as_user = []
    if os.getuid() == 0:
        user = "nobody"
        os.chown(folder, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
        as_user = ["runuser", "-u", user, "--"]
    data = folder / "data"

    def run(*argv):
        return subprocess.run([*as_user, *argv], capture_output=True, text=True, timeout=120)

    steps = [(str(pg / "initdb"), "-D", str(data), "--auth=trust", "-U", user),
             (str(pg / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "start",
              "-o", f"-k {folder} -c listen_addresses=''"),
             (str(pg / "createdb"), "-h", str(folder), "-U", user, "gradebook")]
    try:
        for step in steps:
            proc = run(*step)
            if proc.returncode != 0:
                why = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
                pytest.skip(f"PostgreSQL could not start here: {Path(step[0]).name}: {' '.join(why)}")
        yield f"postgresql+psycopg2://{user}@/gradebook?host={folder}"
    finally:
        run(str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_postgresql_gradebook_matches_sqlite(mixed_class, postgres, tmp_path):
    nbgrader, _, _, _, _ = mixed_class
    course = tmp_path / "course"
    shutil.copytree(nbgrader, course, ignore=shutil.ignore_patterns("autograded", "gradebook.db", ".tlkit-grade"))
    grading.run_nbgrader(course, "generate_assignment", TINY, "--force", f"--CourseDirectory.db_url={postgres}")
    proc = tlkit_grade(course, "--db", postgres, "--workers", "2")
    assert proc.returncode == 1 and outcome_lines(proc.stdout)["solver"] == "graded", proc.stdout + proc.stderr[-2000:]
    assert grades(course, postgres) == grades(nbgrader)
    assert not (course / "gradebook.db").exists(), "nothing written to the SQLite default"
