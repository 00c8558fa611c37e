"""``tlkit grade``: a class autograded in parallel, writing into the course gradebook what ``nbgrader autograde``
would.

Each student is graded by nbgrader's own ``autograde`` (nbgrader's main, as ``python -m nbgrader`` runs it, with the
course's ``nbgrader_config.py``: timeouts, hardening, the sandbox with ``TLKIT_SANDBOX=1``) in a PRIVATE course,
``.tlkit-grade/<id>/<student>/`` inside the course root: its own SQLite gradebook, seeded with the assignment and the
student's earlier submission (manual scores, extension) copied from the course gradebook, and its own autograded/
folder; the submission is read where it is (``submitted/<student>/<id>/``). Up to N students run at once: threads,
each waiting on one worker process (forked from a server that has imported nbgrader once), so a killed worker is one
failed student (exit status -9), never a broken pool, and a worker's start costs no imports.

When a student's autograde ends, the parent merges what it wrote into the course gradebook in ONE transaction under a
lock file (``.tlkit-grade/gradebook.lock``): the student and submission rows it created, and on existing rows the
columns autograde sets (submission timestamp, late penalty, every grade's auto_score and needs_manual_grade, auto
comments); then the student's autograded/ folder replaces the course's by rename (same file system). The gradebook
is any nbgrader ``db_url``: SQLite by default, PostgreSQL for a course that needs one.

Faults: a worker killed mid-student (SIGKILL, ``--timeout``) writes nothing to the course: its private folder is
removed, and the next run grades that student (its autograded/ folder is missing or older). Two runs on one course
claim students through per-student lock files (``.tlkit-grade/<id>/<student>.lock``): a student claimed by the other
run is taken up last, then skipped if the other run graded it. ``--shard i/n`` keeps the students whose id hashes
(SHA-256) to ``i`` mod ``n``: stable when students are added, disjoint, and together the whole class.

The CLI is ``tlkit grade`` (tlkit.course.cli): exit 0 when every student was graded (or skipped), 1 when some failed,
2 on bad input (``BadInput``: one line).
"""
from __future__ import annotations

import fcntl
import hashlib
import multiprocessing
import multiprocessing.forkserver
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import grading
from .grading import BadInput

WORK = ".tlkit-grade"  # in the course root: lock files, and one private course per student being graded
# what nbgrader's autograde writes on rows that exist before it runs (SaveAutoGrades, AssignLatePenalties, and
# update_or_create_submission with the submission's timestamp.txt); manual scores and comments are the graders'
AUTOGRADED_COLUMNS = {"SubmittedAssignment": ("timestamp",), "SubmittedNotebook": ("late_submission_penalty",),
                      "Grade": ("auto_score", "needs_manual_grade"), "Comment": ("auto_comment",)}


@dataclass
class Outcome:
    """One student of a run."""
    student: str
    status: str               # "graded" | "failed" | "skipped"
    seconds: float = 0.0
    points: str = ""          # "13/16" (nbgrader's score / max score) when nbgrader graded the notebook
    reason: str = ""          # why it failed or was skipped; for a graded student, a note (cells timed out, ...)


@dataclass
class Course:
    """The course settings a run needs, read from its nbgrader_config.py (CourseDirectory)."""
    root: Path
    lesson: str
    db_url: str
    course_id: str
    submitted: Path
    autograded: Path
    source: Path

    @property
    def work(self) -> Path:
        return self.root / WORK / self.lesson

    def submission(self, student: str) -> Path:
        return self.submitted / student / self.lesson

    def graded_folder(self, student: str) -> Path:
        return self.autograded / student / self.lesson


def load_course(root: Path, lesson: str, db_url: str | None = None) -> Course:
    """The course at ``root`` as its nbgrader_config.py sets it up; ``db_url`` replaces the config's gradebook."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    if not (root / "nbgrader_config.py").is_file():
        raise BadInput(f"{root} is not a course: it has no nbgrader_config.py (--course DIR)")
    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    except Exception as err:  # the config itself refuses (e.g. TLKIT_SANDBOX=1 without a working bwrap)
        raise BadInput(f"{root / 'nbgrader_config.py'}: {_first_line(str(err))}") from None
    if "root" not in config.CourseDirectory:
        config.CourseDirectory.root = str(root)
    coursedir = CourseDirectory(config=config)
    base = Path(coursedir.root)
    return Course(base, lesson, db_url or coursedir.db_url, coursedir.course_id, base / coursedir.submitted_directory,
                  base / coursedir.autograded_directory, base / coursedir.source_directory)


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' -> (i, n), 0 <= i < n (a Kubernetes JOB_COMPLETION_INDEX, a SLURM_ARRAY_TASK_ID from 0)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match or not int(match[1]) < int(match[2]):
        raise BadInput(f"--shard {text}: expected i/n with 0 <= i < n, e.g. 0/4")
    return int(match[1]), int(match[2])


def in_shard(student: str, index: int, count: int) -> bool:
    """Whether ``student`` belongs to shard ``index`` of ``count``: SHA-256 of the id, mod ``count``."""
    return int.from_bytes(hashlib.sha256(student.encode()).digest()[:8], "big") % count == index


def submitted_students(course: Course) -> list[str]:
    """Students with a submission folder ``submitted/<student>/<id>/``, sorted."""
    if not course.submitted.is_dir():
        return []
    return sorted(p.parent.name for p in course.submitted.glob(f"*/{course.lesson}")
                  if p.is_dir() and not p.parent.name.startswith("."))


@contextmanager
def file_lock(path: Path, blocking: bool = True):
    """An exclusive ``flock`` on ``path`` (created): yields True when held, False when not ``blocking`` and busy.
    Each call opens the file anew, so threads of one process exclude each other too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True  # closing the file releases the lock, whatever happens


# --- gradebook rows, copied between the course gradebook and a private one (nbgrader's models, sqlalchemy) ---

def _snapshot(row) -> tuple[type, dict]:
    """(model, {attribute: value}) of a gradebook row's own table columns (not nbgrader's computed properties)."""
    import sqlalchemy

    mapper = sqlalchemy.inspect(row).mapper
    keys = {mapper.get_property_by_column(column).key for table in mapper.tables for column in table.columns}
    return mapper.class_, {key: getattr(row, key) for key in keys}


def _row(model: type, values: dict):
    """A new ``model`` row holding ``values``, ids included (nbgrader's own constructors drop the id)."""
    import sqlalchemy

    row = sqlalchemy.inspect(model).class_manager.new_instance()
    for key, value in values.items():
        setattr(row, key, value)
    return row


def _assignment_rows(gb, lesson: str) -> list[tuple[type, dict]]:
    """The assignment as generate_assignment stored it: course, assignment, notebooks, graded/solution/task cells,
    source cells."""
    from nbgrader.api import Course as CourseRow, GradeCell, SolutionCell, SourceCell, TaskCell

    assignment = gb.find_assignment(lesson)
    notebooks = list(assignment.notebooks)
    ids = [nb.id for nb in notebooks]
    rows = [gb.db.get(CourseRow, assignment.course_id), assignment, *notebooks]
    for model in (GradeCell, SolutionCell, TaskCell, SourceCell):
        rows += gb.db.query(model).filter(model.notebook_id.in_(ids)).all()
    return [_snapshot(row) for row in rows if row is not None]


def _student_rows(gb, lesson: str, student: str) -> list[tuple[type, dict]]:
    """The student and their submission of ``lesson`` (notebooks, grades, comments); [] for a new student."""
    from nbgrader.api import MissingEntry, Student

    rows = [gb.db.get(Student, student)]
    try:
        submission = gb.find_submission(lesson, student)
    except MissingEntry:
        submission = None
    if submission is not None:
        rows.append(submission)
        for nb in submission.notebooks:
            rows += [nb, *nb.grades, *nb.comments]
    return [_snapshot(row) for row in rows if row is not None]


def _private_gradebook(path: Path, course_id: str, rows: list[tuple[type, dict]],
                       template: Path | None = None) -> str:
    """A SQLite gradebook at ``path``, a copy of ``template`` if given, with ``rows`` added; its db_url. (A new
    gradebook costs 1.5 s: nbgrader runs ``alembic heads`` in a subprocess. A copy costs milliseconds.)"""
    from nbgrader.api import Gradebook

    if template is not None:
        shutil.copyfile(template, path)
    url = f"sqlite:///{path}"
    with Gradebook(url, course_id) as gb:
        for model, values in rows:
            gb.db.merge(_row(model, values))  # merge: the course row exists already
        gb.db.commit()
    return url


def merge_submission(course: Course, private_url: str, student: str) -> None:
    """Write one student's autograde from a private gradebook into the course gradebook: ONE transaction. Rows the
    course lacks are added; on rows it has, only AUTOGRADED_COLUMNS change. Call under the gradebook lock."""
    from nbgrader.api import Gradebook

    with Gradebook(private_url, course.course_id) as private:
        rows = _student_rows(private, course.lesson, student)
    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            for model, values in rows:
                row = gb.db.get(model, values["id"])
                if row is None:
                    gb.db.add(_row(model, values))
                else:
                    for column in AUTOGRADED_COLUMNS.get(model.__name__, ()):
                        setattr(row, column, values[column])
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise


def _timestamp(folder: Path) -> str | None:
    path = folder / "timestamp.txt"
    return path.read_text().strip() if path.is_file() else None


def already_graded(course: Course, student: str, in_gradebook: bool) -> bool:
    """nbgrader's own rule (``autograde`` without ``--force``): the autograded folder exists and holds the
    submission's timestamp.txt (both absent counts as the same); and the gradebook has the submission."""
    folder = course.graded_folder(student)
    return in_gradebook and folder.is_dir() and _timestamp(folder) == _timestamp(course.submission(student))


# --- one student ---

def _first_line(text: str) -> str:
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def failure_reason(log: str, course: Course, student: str) -> str:
    """Why nbgrader could not grade a student, in one line, from its log and the submission folder."""
    lesson = course.lesson
    if "No notebooks found" in log or "No notebooks were matched" in log:
        found = sorted(p.name for p in course.submission(student).glob("*.ipynb"))
        where = f"no {lesson}.ipynb in submitted/{student}/{lesson}/"
        return f"misnamed: {where} (found {', '.join(found)}): rename it or resubmit" if found else \
            f"nothing to grade: {where}"
    if "DeadKernelError" in log:
        return "kernel died (os.kill, a crash or memory running out): nbgrader grades nothing of that notebook"
    errors = re.findall(r"^\s*([\w.]+(?:Error|Exception)): ?(.*)$", log, re.M)
    if errors and any(name.endswith(("NotJSONError", "ValidationError", "NBFormatError")) for name, _ in errors):
        name, message = next((n, m) for n, m in errors if n.endswith(("NotJSONError", "ValidationError",
                                                                         "NBFormatError")))
        return f"malformed notebook ({name.rsplit('.', 1)[-1]}: {message.split(':')[0][:80]}): resubmit"
    if errors:
        name, message = errors[-1]
        return f"nbgrader failed: {name.rsplit('.', 1)[-1]}: {message[:120]}"
    if not log.strip():
        return "the worker stopped before nbgrader ran (its error is on stderr)"
    return "nbgrader failed: " + _first_line(log.strip().splitlines()[-1])


def _notes(folder: Path, lesson: str) -> str:
    """What a graded notebook's outputs say beyond its points: cells that ran out of time."""
    path = folder / f"{lesson}.ipynb"
    if not path.is_file():
        return ""
    timed_out = [grading.nbgrader_meta(cell).get("grade_id") or f"cell {i + 1}"
                 for i, cell in enumerate(nbformat.read(path, 4).cells) if cell.cell_type == "code"
                 and any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))]
    return f"timed out: {', '.join(timed_out)}" if timed_out else ""


def _points(private_url: str, course: Course, student: str) -> str:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(private_url, course.course_id) as gb:
        try:
            submission = gb.find_submission(course.lesson, student)
        except MissingEntry:
            return ""
        return f"{submission.score:g}/{submission.max_score:g}"


def _install(course: Course, private: Path, student: str) -> None:
    """The student's autograded/ folder from the private course replaces the course's (renames; none when nbgrader
    removed it after a failure, as its class run does)."""
    new, dest = private / "autograded" / student / course.lesson, course.graded_folder(student)
    if dest.exists():
        dest.rename(private / "replaced")
    if new.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        new.rename(dest)


# imported once by the fork server, so that each student's nbgrader process starts without importing them again
# (a fresh `python -m nbgrader` spends 1.7 s of CPU on its imports and the config before grading anything)
PRELOAD = ["tlkit.course.grade", "nbgrader.apps.nbgraderapp", "nbgrader.preprocessors", "nbgrader.converters",
           "nbconvert.preprocessors", "tlkit.course.nbgrader_ext"]
_STARTING = threading.Lock()


def _worker_context():
    """multiprocessing's forkserver context, its server preloading PRELOAD (started by the first worker, or early by
    ``multiprocessing.forkserver.ensure_running()``)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def run_nbgrader_worker(root: Path, argv: list[str], log: Path, timeout: float | None = None) -> int | None:
    """``nbgrader ARGV`` in ``root`` as ``python -m nbgrader`` runs it, in a new process forked from a server that
    has nbgrader imported already, its output in ``log``. Returns its exit status (negative: killed by that signal),
    or None when it ran past ``timeout`` seconds (then it is killed)."""
    with _STARTING:
        worker = _worker_context().Process(target=_nbgrader_main, args=(str(root), list(argv), str(log)),
                                           name=f"nbgrader {' '.join(argv[:4])}")
        worker.start()
    worker.join(timeout)
    if worker.exitcode is None:
        worker.kill()
        worker.join()
        return None
    return worker.exitcode


def _nbgrader_main(root: str, argv: list[str], log: str) -> None:
    """The worker process: stdout and stderr into ``log``, ``this Python's bin/`` on PATH, then nbgrader's main."""
    from nbgrader.apps.nbgraderapp import NbGraderApp

    handle = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(handle, 1)
    os.dup2(handle, 2)
    os.chdir(root)
    os.environ.update(grading.nbgrader_env())
    NbGraderApp.launch_instance(argv=argv)


@dataclass
class Run:
    """What every student of one run shares."""
    course: Course
    template: Path          # a private gradebook holding the assignment, copied for each student
    timeout: float | None

    def grade_student(self, student: str, force: bool) -> Outcome:
        """Autograde one student in a private course and merge the result; never raises."""
        t0 = time.perf_counter()
        private = self.course.work / student
        try:
            return self._grade(student, force, private, t0)
        except Exception as err:  # a gradebook error, a full disk...: this student fails, the class goes on
            return Outcome(student, "failed", time.perf_counter() - t0, reason=f"{type(err).__name__}: "
                                                                                 f"{_first_line(str(err))[:160]}")
        finally:
            shutil.rmtree(private, ignore_errors=True)

    def _grade(self, student: str, force: bool, private: Path, t0: float) -> Outcome:
        from nbgrader.api import Gradebook

        course = self.course
        shutil.rmtree(private, ignore_errors=True)  # left by a run that was killed
        with Gradebook(course.db_url, course.course_id) as gb:
            seed = _student_rows(gb, course.lesson, student)
        if not force and already_graded(course, student, any(m.__name__ == "SubmittedAssignment" for m, _ in seed)):
            return Outcome(student, "skipped", reason="graded meanwhile by another run")
        private.mkdir(parents=True)
        url = _private_gradebook(private / "gradebook.db", course.course_id, seed, self.template)
        status = run_nbgrader_worker(course.root, [
            "autograde", course.lesson, "--student", student, "--force", f"--CourseDirectory.root={private}",
            f"--CourseDirectory.db_url={url}", f"--CourseDirectory.submitted_directory={course.submitted}",
            f"--CourseDirectory.source_directory={course.source}",
            f"--CourseDirectory.autograded_directory={private / 'autograded'}"], private / "nbgrader.log", self.timeout)
        if status is None:
            return Outcome(student, "failed", time.perf_counter() - t0,
                           reason=f"timed out after {self.timeout:g} s (--timeout): worker killed, nothing written")
        if status < 0:
            return Outcome(student, "failed", time.perf_counter() - t0, reason=f"worker killed "
                           f"({signal.Signals(-status).name}) mid-student: nothing written; the next run grades it")
        log = (private / "nbgrader.log").read_text(errors="replace") if (private / "nbgrader.log").exists() else ""
        if status != 0 and f"for student '{student}'" not in log:  # nbgrader did not get to the student
            return Outcome(student, "failed", time.perf_counter() - t0, reason=failure_reason(log, course, student))
        # nbgrader processed the student (graded, or failed as in its own class run: the submission row is kept,
        # the autograded folder removed): the course gets exactly that
        points, note = _points(url, course, student), _notes(private / "autograded" / student / course.lesson,
                                                             course.lesson)
        with file_lock(course.root / WORK / "gradebook.lock"):
            merge_submission(course, url, student)
            _install(course, private, student)
        seconds = time.perf_counter() - t0
        if status != 0:
            return Outcome(student, "failed", seconds, reason=failure_reason(log, course, student))
        return Outcome(student, "graded", seconds, points, note)


def grade(root: Path, lesson: str, workers: int | None = None, students: list[str] | None = None,
          shard: str | None = None, force: bool = False, db_url: str | None = None, timeout: float | None = None,
          progress: bool = True) -> list[Outcome]:
    """Autograde ``lesson`` for every submission (or ``students``, regraded; or one ``shard`` 'i/n') with
    ``workers`` at once (default: the CPU count). BadInput, before anything runs, for what cannot be graded.

    The workers are multiprocessing's (forkserver), which import the caller's main module again: a script calling
    this needs ``if __name__ == "__main__":`` (without it, multiprocessing's RuntimeError in each worker, whose
    student fails; the fork server starts before any student is claimed, so nothing waits on a lock)."""
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.engine import make_url
    from tqdm import tqdm

    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        raise BadInput(f"--workers {workers}: at least 1")
    if timeout is not None and timeout <= 0:
        raise BadInput(f"--timeout {timeout:g}: seconds, more than 0")
    shard_of = parse_shard(shard) if shard else None
    course = load_course(root, lesson, db_url)
    everyone = submitted_students(course)
    if not everyone:
        raise BadInput(f"no submissions of {lesson} in {course.submitted} (expected submitted/<student>/{lesson}/)")
    unknown = sorted(set(students or ()) - set(everyone))
    if unknown:
        raise BadInput(f"no submission of {lesson} by {', '.join(unknown)} in {course.submitted}")
    chosen = sorted(set(students)) if students else everyone
    if shard_of:
        chosen = [s for s in chosen if in_shard(s, *shard_of)]
    try:
        with Gradebook(course.db_url, course.course_id) as gb:
            assignment = _assignment_rows(gb, lesson)
            in_gradebook = {s.student_id for s in gb.find_assignment(lesson).submissions}
    except MissingEntry:
        raise BadInput(f"no assignment {lesson} in the gradebook {make_url(course.db_url).render_as_string()}: "
                       f"run `nbgrader generate_assignment {lesson}` first") from None
    except Exception as err:
        raise BadInput(f"cannot open the gradebook {make_url(course.db_url).render_as_string()}: "
                       f"{_first_line(str(err))}") from None
    force = force or bool(students)
    skipped = set() if force else {s for s in chosen if already_graded(course, s, s in in_gradebook)}
    todo = [s for s in chosen if s not in skipped]
    outcomes = [Outcome(s, "skipped", reason="already graded at this submission's timestamp") for s in skipped]
    with tempfile.TemporaryDirectory(prefix="tlkit-grade-") as folder, \
            tqdm(total=len(todo), desc=f"grading {lesson}", unit="student", disable=not progress or not todo) as bar:
        if todo:  # the fork server's imports (3 s) run while the template is made (nbgrader's alembic call, 1.5 s)
            _worker_context()
            multiprocessing.forkserver.ensure_running()
        template = Path(folder) / "gradebook.db"
        _private_gradebook(template, course.course_id, assignment)
        run = Run(course, template, timeout)
        outcomes += _in_parallel(run, todo, min(workers, max(len(todo), 1)), force, bar)
    return sorted(outcomes, key=lambda o: o.student)


def _in_parallel(run: Run, students: list[str], workers: int, force: bool, bar) -> list[Outcome]:
    """Grade ``students`` on ``workers`` threads. Each student is claimed first (its lock file); one claimed by
    another run goes to the back of the queue and is then waited for (and skipped if that run graded it)."""
    queue, guard, outcomes = deque((s, False) for s in students), threading.Lock(), []

    def work():
        while True:
            with guard:
                if not queue:
                    return
                student, wait = queue.popleft()
            with file_lock(run.course.work / f"{student}.lock", blocking=wait) as claimed:
                if not claimed:
                    with guard:
                        queue.append((student, True))
                    continue
                outcome = run.grade_student(student, force)
            with guard:
                outcomes.append(outcome)
                bar.update(1)
                failed = sum(o.status == "failed" for o in outcomes)
                if failed:
                    bar.set_postfix(failed=failed)

    with ThreadPoolExecutor(workers, thread_name_prefix="tlkit-grade") as pool:
        try:
            for future in [pool.submit(work) for _ in range(workers)]:
                future.result()
        except BaseException:  # Ctrl-C: the students being graded stop with it (their workers get the SIGINT too)
            with guard:
                queue.clear()
            raise
    return outcomes


def format_report(outcomes: list[Outcome], lesson: str, seconds: float, workers: int) -> str:
    """The per-student time table (students graded or failed in this run), one line per failure, a summary."""
    done = [o for o in outcomes if o.status != "skipped"]
    lines = []
    if done:
        rows = [("student", "result", "points", "seconds", "note")]
        rows += [(o.student, o.status, o.points or "-", f"{o.seconds:.1f}", o.reason if o.status == "graded" else "")
                 for o in done]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines += ["  ".join(cell.ljust(w) if i != 3 else cell.rjust(w) for i, (cell, w) in
                            enumerate(zip(r, widths))) + ("  " + r[4] if r[4] else "") for r in rows]
    failed = [o for o in outcomes if o.status == "failed"]
    lines += [f"failed: {o.student}: {o.reason}" for o in failed]
    graded = sum(o.status == "graded" for o in outcomes)
    skipped = [o for o in outcomes if o.status == "skipped"]
    summary = f"{lesson}: {graded} graded, {len(failed)} failed, {len(skipped)} skipped"
    if skipped:
        summary += " (already graded at their submission's timestamp: --force or --student regrades)"
    per = f", {seconds / len(done):.1f} s per student" if done else ""
    lines.append(f"{summary}; {seconds:.0f} s with {workers} worker{'s' if workers != 1 else ''}{per}")
    return "\n".join(lines)


def exit_code(outcomes: list[Outcome]) -> int:
    """0 every student graded or skipped, 1 some failed."""
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def class_grades(db_url: str, lesson: str, course_id: str = "default_course") -> dict[str, dict]:
    """Everything autograde writes for ``lesson``, per student: {student: {"timestamp", "late_penalty", "grades":
    {notebook/grade_id: (auto_score, needs_manual_grade)}, "comments": {notebook/grade_id: auto_comment}}} (to
    compare two gradebooks: ``tlkit grade`` against ``nbgrader autograde``, SQLite against PostgreSQL)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        return {sub.student_id: {
            "timestamp": sub.timestamp,
            "late_penalty": {nb.name: nb.late_submission_penalty for nb in sub.notebooks},
            "grades": {f"{nb.name}/{g.name}": (g.auto_score, g.needs_manual_grade) for nb in sub.notebooks
                       for g in nb.grades},
            "comments": {f"{nb.name}/{c.name}": c.auto_comment for nb in sub.notebooks for c in nb.comments}}
            for sub in gb.find_assignment(lesson).submissions}
