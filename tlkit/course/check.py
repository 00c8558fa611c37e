"""``tlkit check``: a learner grades their own saved notebook exactly as the instructor's ``nbgrader autograde`` would.

``check([path or id, ...])`` builds ONE temporary nbgrader course (in the system's temp folder, never in the repo)
whose source is ``solutions/<id>`` of this checkout (``tlkit.SOLUTIONS``) and whose config is the repo's
``nbgrader_config.py`` (the per-cell timeout, the hardening preprocessors of tlkit/course/nbgrader_ext/), generates the
releases, submits every notebook as its own student and runs ONE ``nbgrader autograde`` over all of them (one kernel
start per notebook, in the grade profile: nbgrader sets ``NBGRADER_EXECUTION``). The points come from that run's
gradebook, so they are nbgrader's points. The report shows, per exercise (solution cell -> its test cells), points
earned / possible and, for each failing test cell, the FIRST LINE of its error (``AssertionError: <message>``),
never the test's source or the traceback (they show the hidden tests).

Two things are added to nbgrader's run, through the temporary course's copy of the config (``traced_preprocessors``):

* a trace: which cell each notebook is executing, so that a kernel that dies (nbgrader then grades nothing of that
  notebook) is reported at the exercise where it died;
* after the first cell of a notebook times out (``Execute.timeout`` of nbgrader_config.py, 60 s), every later cell
  of that notebook gets ``later_timeout`` seconds (10 s) instead: an infinite loop in a function that ten later
  cells call ends in ~2 min instead of ten minutes. Grade-profile cells take seconds (the slowest ~4 s), so the
  points are the same; ``later_timeout=None`` (``--full-timeouts``) gives every cell the full timeout.

The CLI is ``tlkit check`` (tlkit.course.cli); exit 0 when every autograded cell earns full marks, 1 otherwise, 2 on bad
input (``BadInput``: one line). ``tlkit check NB --format gradescope`` writes the same result as Gradescope's
``results.json`` (``gradescope``; deploy/gradescope/ runs it as a Gradescope autograder).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import grading
from .grading import BadInput
from .paths import LESSONS, SOLUTIONS

LATER_TIMEOUT = 10  # seconds per cell after a notebook's first timeout (see the module docstring)
TRACE_ENV = "TLKIT_CHECK_TRACE"
LATER_TIMEOUT_ENV = "TLKIT_CHECK_LATER_TIMEOUT"
# environment of the learner's shell that must not reach the grading kernel: a forced profile (the grade profile is
# what nbgrader runs) and the headline-figure recorder (nothing is written anywhere)
DROPPED_ENV = ("TLKIT_PROFILE", "TLKIT_RECORD", "TLKIT_RECORD_COMMAND")
CONFIG_ADDITION = """

# --- tlkit check (tlkit/course/check.py): the grading above, traced; later cells shortened after a timeout ---
from tlkit.course import check as _tlkit_check  # noqa: E402

c.Autograde.autograde_preprocessors = _tlkit_check.traced_preprocessors(c.Autograde.autograde_preprocessors)
"""


# --- what the report is made of ---

@dataclass
class TestCell:
    """One autograded test cell of a checked notebook."""
    grade_id: str
    points: float          # earned (nbgrader's auto score; 0 when nbgrader graded nothing)
    max_points: float
    status: str            # "passed" | "failed" | "timed out" | "kernel died" | "not graded"
    message: str = ""      # first line of the error, or why it was not graded


@dataclass
class Exercise:
    """A graded function (the solution cell's grade_id) and the test cells that grade it."""
    name: str
    tests: list[TestCell] = field(default_factory=list)
    note: str = ""         # first line of an error raised by the learner's own solution cell

    @property
    def points(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def max_points(self) -> float:
        return sum(t.max_points for t in self.tests)


@dataclass
class Result:
    """The check of one notebook."""
    lesson: str
    path: Path
    exercises: list[Exercise]
    manual: list[tuple[str, float, str]]   # (grade_id, points, state) of the answers a person reads
    seconds: float = 0.0
    problem: str = ""                      # nbgrader could not grade the notebook at all (e.g. the kernel died)
    shortened: bool = False                # a cell timed out (later cells then got ``later_timeout``)
    timeout: float = 0.0                   # nbgrader's per-cell timeout (nbgrader_config.py)
    later_timeout: float | None = None

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> float:
        return sum(e.max_points for e in self.exercises)

    @property
    def full_marks(self) -> bool:
        return all(t.points == t.max_points for e in self.exercises for t in e.tests)

    def test_scores(self) -> dict[str, tuple[float, float]]:
        """{test grade_id: (earned, possible)}, comparable with ``tlkit.course.grading.scores``."""
        return {t.grade_id: (t.points, t.max_points) for e in self.exercises for t in e.tests}


# --- finding the lesson of a notebook ---

def _source(lesson: str, solutions: Path) -> Path:
    return Path(solutions) / lesson / f"{lesson}.ipynb"


def _known_ids(solutions: Path) -> list[str]:
    return grading.lesson_ids(solutions) if Path(solutions).is_dir() else []


def _lesson_folders() -> list[Path]:
    """Where a lesson id is looked up, first match wins: the current folder (a notebook's own folder when run as
    ``!tlkit check <id>``), its lessons/, then the checkout's lessons/."""
    cwd = Path.cwd()
    return [cwd, cwd / "lessons", LESSONS]


def _no_source(lesson: str, path: Path | None, solutions: Path) -> BadInput:
    target = path if path is not None else f"lessons/{lesson}/{lesson}.ipynb"
    return BadInput(f"no instructor source for {lesson}: {Path(solutions) / lesson} is not here (a student copy of "
                    f"the course?), and the hidden tests live only there; `nbgrader validate {target}` runs the "
                    f"visible tests")


def find_by_id(lesson: str, solutions: Path = SOLUTIONS) -> Path:
    """The saved notebook of lesson ``lesson``: <id>.ipynb in the current folder, <id>/<id>.ipynb, lessons/<id>/,
    or the checkout's lessons/<id>/."""
    candidates = [Path.cwd() / f"{lesson}.ipynb"] + [d / lesson / f"{lesson}.ipynb" for d in _lesson_folders()]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        known = _known_ids(solutions)
        if lesson in known:
            raise BadInput(f"lesson {lesson}: no saved notebook lessons/{lesson}/{lesson}.ipynb here or in "
                           f"{LESSONS.parent}")
        if not known:
            raise _no_source(lesson, None, solutions)
        raise BadInput(f"unknown lesson {lesson!r} (not a notebook path either); lessons: {', '.join(known)}")
    if not _source(lesson, solutions).is_file():
        raise _no_source(lesson, found, solutions)
    return found


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, or BadInput (not a notebook, malformed JSON, not a notebook's JSON)."""
    path = Path(path)
    if path.is_dir():
        raise BadInput(f"{path} is a folder, not a notebook (give lessons/<id>/<id>.ipynb or a lesson id)")
    if path.suffix != ".ipynb":
        raise BadInput(f"{path} is not a notebook (.ipynb)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BadInput(f"{path}: cannot read it ({err})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise BadInput(f"{path}: malformed JSON ({err}); was the notebook saved completely?") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise BadInput(f"{path} is JSON but not a notebook (no list of cells)")
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat.reader.NotJSONError, validation errors, ...
        raise BadInput(f"{path} is not a readable notebook: {str(err).splitlines()[0]}") from None


def identify(path: Path, solutions: Path = SOLUTIONS) -> str:
    """The lesson id of a saved notebook: its folder or file name (``02_freezing-Copy1.ipynb`` too), else the
    lesson whose graded cells it holds. BadInput when it is none of our lessons or has no instructor source."""
    path = Path(path)
    nb = read_notebook(path)
    grade_ids = {grading.nbgrader_meta(c).get("grade_id") for c in nb.cells} - {None}
    if not grade_ids:
        raise BadInput(f"{path} is not one of our lessons: it has no nbgrader cells")
    known = _known_ids(solutions)
    names = [path.parent.name, path.stem]
    by_name = [n for n in names if n in known] or [k for k in known if path.stem.startswith(k)]
    if by_name:
        return by_name[0]
    overlap = {k: len(grade_ids & _grade_ids(_source(k, solutions))) for k in known}
    best = max(overlap, key=overlap.get, default=None)
    if best is not None and overlap[best] > 0:
        return best
    if not known or any(n[:2].isdigit() and "_" in n for n in names):  # a lesson-like name we have no source of
        guess = next((n for n in names if n[:2].isdigit() and "_" in n), path.stem)
        raise _no_source(guess, path, solutions)
    raise BadInput(f"{path} is not one of our lessons (no lesson's graded cells in it); lessons: {', '.join(known)}")


def _grade_ids(source: Path) -> set[str]:
    return {grading.nbgrader_meta(c).get("grade_id") for c in nbformat.read(source, 4).cells} - {None}


def resolve(target: str, solutions: Path = SOLUTIONS) -> tuple[str, Path]:
    """(lesson id, notebook path) for a command-line argument: a notebook path or a lesson id."""
    path = Path(target)
    if path.exists():
        return identify(path, solutions), path
    if path.suffix or os.sep in target or "/" in target:
        raise BadInput(f"{target}: no such file")
    return target, find_by_id(target, solutions)


# --- the exercises of a lesson, from the instructor source ---

def layout(source: Path) -> tuple[list[tuple[str, list[tuple[str, float]]]], list[tuple[str, float]]]:
    """([(exercise, [(test grade_id, points), ...]), ...], [(manual grade_id, points), ...]) of a source notebook.

    A test cell belongs to the exercise ``f`` with the longest ``test_<f>`` prefix of its grade_id (the course
    convention), else to the solution cell above it.
    """
    cells = nbformat.read(source, 4).cells
    functions = [grading.nbgrader_meta(c)["grade_id"] for c in cells
                 if grading.nbgrader_meta(c).get("solution") and not grading.nbgrader_meta(c).get("grade")
                 and c.cell_type == "code"]
    tests: dict[str, list[tuple[str, float]]] = {f: [] for f in functions}
    manual, above = [], None
    for cell in cells:
        meta = grading.nbgrader_meta(cell)
        if meta.get("solution") and not meta.get("grade") and cell.cell_type == "code":
            above = meta["grade_id"]
        if not meta.get("grade"):
            continue
        points = float(meta.get("points", 0))
        if meta.get("solution") or cell.cell_type == "markdown":
            manual.append((meta["grade_id"], points))
            continue
        owners = [f for f in functions if meta["grade_id"].startswith(f"test_{f}")]
        owner = max(owners, key=len) if owners else above or meta["grade_id"]
        tests.setdefault(owner, []).append((meta["grade_id"], points))
    return [(f, t) for f, t in tests.items()], manual


# --- the nbgrader run ---

def traced_preprocessors(steps: list) -> list:
    """nbgrader_config hook: every Execute step (Execute, SandboxedExecute) traced (see the module docstring)."""
    from nbgrader.preprocessors import Execute

    return [_traced(p) if isinstance(p, type) and issubclass(p, Execute) else p for p in steps]


_TRACED: dict[type, type] = {}


def _traced(execute: type) -> type:
    if execute not in _TRACED:
        _TRACED[execute] = type(f"Traced{execute.__name__}", (_TraceMixin, execute), {
            "__doc__": f"{execute.__name__}, writing the cell it runs to $" + TRACE_ENV + "/<student>.json"})
    return _TRACED[execute]


class _TraceMixin:
    """The cell being executed goes to a small JSON file; after a first timeout, later cells get less time.

    The file also holds, per executed code cell, [index, grade_id, start (s after the step began), seconds]: the
    first start is the kernel's start-up (tlkit.course.grading_cost reads them)."""

    def preprocess(self, nb, resources=None, km=None):
        info = (resources or {}).get("nbgrader", {})
        folder = os.environ.get(TRACE_ENV)
        self._tlkit_file = (Path(folder) / f"{info.get('student', 'unknown')}.json") if folder else None
        self._tlkit_state = {"cell": None, "grade_id": None, "after": None, "timeouts": 0, "error": None,
                             "started": time.time(), "seconds": None, "cells": []}
        try:
            return super().preprocess(nb, resources, km)
        except BaseException as err:
            self._tlkit_state["error"] = type(err).__name__
            raise
        finally:
            self._tlkit_state["seconds"] = time.time() - self._tlkit_state["started"]
            self._tlkit_write()

    def preprocess_cell(self, cell, resources, index):
        state = self._tlkit_state
        if state["grade_id"] is not None:
            state["after"] = state["grade_id"]
        state["cell"], state["grade_id"] = index, cell.metadata.get("nbgrader", {}).get("grade_id")
        self._tlkit_write()
        start = time.time()
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            if cell.cell_type == "code" and cell.source.strip():  # the cells the kernel runs (nbclient skips the rest)
                state["cells"].append([index, state["grade_id"], start - state["started"], time.time() - start])

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        later = os.environ.get(LATER_TIMEOUT_ENV, "")
        if getattr(self, "_tlkit_state", {}).get("timeouts") and later:
            return int(later) if timeout is None else min(timeout, int(later))
        return timeout

    async def _async_handle_timeout(self, timeout, cell=None):
        if hasattr(self, "_tlkit_state"):
            self._tlkit_state["timeouts"] += 1
            self._tlkit_state.setdefault("first_timeout", timeout)
            self._tlkit_write()
        return await super()._async_handle_timeout(timeout, cell)

    def _tlkit_write(self):
        if self._tlkit_file is not None:
            tmp = self._tlkit_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._tlkit_state))
            tmp.replace(self._tlkit_file)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def _error_line(output) -> str:
    """'AssertionError: message' (the first line) of an error output; never its traceback."""
    message = _first_line(output.get("evalue", ""))
    name = output.get("ename", "Error")
    return f"{name}: {message}" if message else name


def _cell_outcome(cell) -> tuple[str, str]:
    """(status, message) of an executed test cell from its outputs."""
    outputs = cell.get("outputs", [])
    names = [o.get("ename") for o in outputs if o.get("output_type") == "error"]
    if "CellTimeoutError" in names:
        return "timed out", ""
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if errors:
        return "failed", _error_line(errors[0])
    stderr = [o for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    if stderr:
        return "failed", "wrote to stderr: " + _first_line(stderr[0].get("text", ""))[:200]
    return "failed", ""


def _remove(folder: Path) -> None:
    def writable(func, path, _):
        os.chmod(path, 0o700)
        func(path)
    shutil.rmtree(folder, onerror=writable)


def check(targets: list[str | Path], solutions: Path = SOLUTIONS, later_timeout: int | None = LATER_TIMEOUT,
          keep: Path | None = None, timeout: float | None = None, cell_timeout: int | None = None,
          generated: Path | None = None) -> list[Result]:
    """Grade the saved notebooks ``targets`` (paths or lesson ids) in one temporary course and one autograde run.

    BadInput (before anything runs) for a target that cannot be checked. ``keep``: build the course there and
    leave it (for debugging); otherwise a temporary folder that is removed afterwards. ``timeout``: seconds for each
    nbgrader run; ``cell_timeout``: seconds per cell instead of nbgrader_config.py's. ``generated``: a course in
    which ``nbgrader generate_assignment`` already ran for these lessons from ``solutions``; its gradebook and releases
    are copied instead of generating them again.
    """
    if not targets:
        raise BadInput("nothing to check: give a notebook path, a lesson id, or --all")
    resolved = [resolve(str(t), Path(solutions)) for t in targets]
    course = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="tlkit-check-"))
    course.mkdir(parents=True, exist_ok=True)
    try:
        return _grade(course, resolved, Path(solutions), later_timeout, timeout, cell_timeout, generated)
    finally:
        if not keep:
            _remove(course)


def _grade(course: Path, resolved: list[tuple[str, Path]], solutions: Path, later_timeout: int | None,
           timeout: float | None, cell_timeout: int | None, generated: Path | None) -> list[Result]:
    lessons = sorted({lesson for lesson, _ in resolved})
    for lesson in lessons:
        grading.new_course(course, lesson, solutions)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(CONFIG_ADDITION)
    students = []
    for n, (lesson, path) in enumerate(resolved, 1):
        student = f"check{n:02d}"
        grading.submit(course, lesson, student, Path(path).read_bytes())
        students.append(student)
    trace = course / "trace"
    trace.mkdir()
    env = {TRACE_ENV: str(trace), LATER_TIMEOUT_ENV: str(later_timeout or "")}
    assignment = lessons[0] if len(lessons) == 1 else "*"
    if generated:
        shutil.copy(Path(generated) / "gradebook.db", course / "gradebook.db")
        for lesson in lessons:
            shutil.copytree(Path(generated) / "lessons" / lesson, course / "lessons" / lesson)
    else:
        gen = grading.run_nbgrader(course, "generate_assignment", assignment, "--force", check=False, timeout=timeout,
                                   env=env, unset=DROPPED_ENV)
        if gen.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment failed:\n{gen.stdout[-2000:]}\n{gen.stderr[-2000:]}")
    cells = [f"--Execute.timeout={cell_timeout}"] if cell_timeout else []
    proc = grading.run_nbgrader(course, "autograde", assignment, "--force", *cells, check=False, timeout=timeout,
                                env=env, unset=DROPPED_ENV)
    log = proc.stdout + proc.stderr
    return [_result(course, lesson, Path(path), student, solutions, trace, log, later_timeout)
            for (lesson, path), student in zip(resolved, students)]


def _result(course: Path, lesson: str, path: Path, student: str, solutions: Path, trace_dir: Path,
            log: str, later_timeout: int | None) -> Result:
    exercises, manual = layout(_source(lesson, solutions))
    graded_path = course / "autograded" / student / lesson / f"{lesson}.ipynb"
    trace_file = trace_dir / f"{student}.json"
    trace = json.loads(trace_file.read_text()) if trace_file.is_file() else {}
    try:
        score = grading.scores(course, lesson, student)
        manual_left = grading.needs_manual_grade(course, lesson, student)
    except Exception:  # no submission in the gradebook: nbgrader did not get to this notebook
        score, manual_left = {}, set()
    result = Result(lesson, path, [], [], seconds=trace.get("seconds") or 0.0, shortened=bool(trace.get("timeouts")),
                    timeout=trace.get("first_timeout") or 0.0, later_timeout=later_timeout)
    graded = nbformat.read(graded_path, 4) if graded_path.is_file() else None
    died_at = _died_in(trace, exercises) if graded is None else None
    if graded is None:
        result.problem = _why_not_graded(trace, log, student, died_at)
    cells = {grading.nbgrader_meta(c).get("grade_id"): c for c in (graded.cells if graded else [])}
    for name, tests in exercises:
        ex = Exercise(name)
        solution = cells.get(name)
        if solution is not None:
            errors = [o for o in solution.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                ex.note = ("your cell timed out" if any(o.get("ename") == "CellTimeoutError" for o in errors)
                           else "your cell raised " + _error_line(errors[0]))
        for grade_id, points in tests:
            earned, possible = score.get(grade_id, (0.0, points))
            earned = float(earned or 0.0)
            if graded is None:
                if died_at is not None and grade_id in died_at[1]:
                    status, message = "kernel died", died_at[0]
                else:
                    status, message = "not graded", "the kernel died" if died_at is not None else ""
            elif earned >= possible:
                status, message = "passed", ""
            else:
                status, message = _cell_outcome(cells[grade_id]) if grade_id in cells else ("failed", "cell missing")
            ex.tests.append(TestCell(grade_id, earned, float(possible), status, message))
        result.exercises.append(ex)
    for grade_id, points in manual:
        if grade_id in score and grade_id not in manual_left:
            state = "unanswered: 0 points"
        elif graded is None:
            state = "not graded"
        else:
            state = "to be read by a person"
        result.manual.append((grade_id, points, state))
    return result


def _died_in(trace: dict, exercises) -> tuple[str, set[str]] | None:
    """(where, test grade_ids of that exercise) where the kernel died, from the trace; None if it did not die."""
    if trace.get("error") != "DeadKernelError" or trace.get("cell") is None:
        return None
    cell = f"cell {trace['cell'] + 1}"
    for grade_id, inside in ((trace.get("grade_id"), True), (trace.get("after"), False)):
        for name, tests in exercises:
            ids = {t for t, _ in tests}
            if grade_id is not None and (grade_id == name or grade_id in ids):
                return (f"in {grade_id} ({cell})" if inside else f"in {cell}, after {grade_id}"), ids
    return f"in {cell}", set()


def _why_not_graded(trace: dict, log: str, student: str, died_at) -> str:
    if trace.get("error") == "DeadKernelError":
        where = died_at[0] if died_at else f"in cell {trace.get('cell', 0) + 1}"
        return f"the kernel died {where}: nbgrader grades nothing of a notebook whose kernel dies, so every " \
               f"exercise scores 0 (a crash, os.kill, or memory running out?)"
    if trace.get("error"):
        return f"grading stopped ({trace['error']}) in cell {trace.get('cell', 0) + 1}: no points"
    if f"for student '{student}'" in log:
        return "nbgrader could not grade this notebook (is it a saved copy of the lesson?): no points"
    return "nbgrader did not grade this notebook: no points"


# --- the report ---

def _fmt(x: float) -> str:
    return f"{x:g}"


def format_result(result: Result) -> str:
    """The table of one checked notebook (what ``tlkit check`` prints)."""
    width = max([len("exercise")] + [len(e.name) for e in result.exercises]) + 2
    lines = [f"{result.lesson}  ({result.path})", f"  {'exercise':<{width}}{'points':>9}   result"]
    for ex in result.exercises:
        failing = [t for t in ex.tests if t.status != "passed"]
        pts = f"{_fmt(ex.points)} / {_fmt(ex.max_points)}"
        if not failing:
            lines.append(f"  {ex.name:<{width}}{pts:>9}   ok")
        for n, t in enumerate(failing):
            text = _test_output(t)
            lines.append(f"  {ex.name if n == 0 else '':<{width}}{pts if n == 0 else '':>9}   {t.grade_id}: {text}")
        if ex.note and failing:
            lines.append(f"  {'':<{width}}{'':>9}   ({ex.note})")
    lines.append(f"  {'total':<{width}}{_fmt(result.points) + ' / ' + _fmt(result.max_points):>9}   "
                 + ("full marks" if result.full_marks else "autograded points"))
    if result.problem:
        lines.append(f"  {result.problem}")
    for grade_id, points, state in result.manual:
        lines.append(f"  written answer {grade_id} ({_fmt(points)} points): {state}")
    if result.shortened:
        lines.append(f"  ({_timeout_note(result)})")
    lines.append(f"  graded in {result.seconds:.1f} s")
    return "\n".join(lines)


def _timeout_note(result: Result, option: bool = True) -> str:
    note = f"timed out: no answer within nbgrader's {_fmt(result.timeout)} s per cell"
    if result.later_timeout:
        note += f"; after that, later cells had {_fmt(result.later_timeout)} s each"
        note += f": --full-timeouts gives them {_fmt(result.timeout)} s" if option else ""
    return note


def _test_output(test: TestCell, note: str = "") -> str:
    """What a learner is told about one test cell: nothing when it passed, else its status and the first line of
    its error (never the test's source), then ``note`` (the exercise's own error) if any."""
    if test.status == "passed":
        return ""
    text = " ".join(x for x in ("" if test.status == "failed" else test.status, test.message) if x) or "failed"
    return f"{text} ({note})" if note else text


def format_report(results: list[Result], seconds: float | None = None) -> str:
    """Every notebook's table, then the whole run's time."""
    text = "\n\n".join(format_result(r) for r in results)
    if seconds is not None:
        n = len(results)
        text += f"\n\n{n} notebook{'s' if n != 1 else ''} checked in {seconds:.1f} s"
    return text


def exit_code(results: list[Result]) -> int:
    return 0 if all(r.full_marks for r in results) else 1


# --- Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/#output-format) ---

def gradescope(result: Result, seconds: float) -> dict:
    """Gradescope's ``results.json`` for one checked notebook.

    ``score`` is the autograded points (nbgrader's, as in the text report); one test per autograded test cell, named
    ``<exercise>: <test grade_id>``, with its points as ``score`` / ``max_score`` and, when it lost points, the first
    line of its error as ``output`` (the same line the text report prints, never the test's source). The written
    answers are listed without a score: a person grades them, in Gradescope as manually graded questions of the
    assignment, so the autograder's score stays nbgrader's autograded points (a 0 / max entry would show every
    student a failed test that no code can pass)."""
    tests = [{"name": f"{ex.name}: {t.grade_id}", "score": t.points, "max_score": t.max_points,
              "status": "passed" if t.points >= t.max_points else "failed", "output": _test_output(t, ex.note),
              "visibility": "visible"} for ex in result.exercises for t in ex.tests]
    tests += [{"name": f"written answer {grade_id} ({_fmt(points)} points)", "output": state, "visibility": "visible"}
              for grade_id, points, state in result.manual]
    lines = [f"{result.lesson}: {_fmt(result.points)} / {_fmt(result.max_points)} autograded points"]
    lines += [result.problem] if result.problem else []
    lines += [_timeout_note(result, option=False)] if result.shortened else []
    if result.manual:
        lines.append(f"{len(result.manual)} written answer{'s' if len(result.manual) != 1 else ''} "
                     f"({_fmt(sum(p for _, p, _ in result.manual))} points) read by a person, not in this score")
    return {"score": result.points, "execution_time": round(seconds), "output": "\n".join(lines),
            "output_format": "text", "tests": tests}


def gradescope_failure(reason: str) -> dict:
    """``results.json`` for a submission that could not be graded at all (e.g. no notebook, malformed JSON)."""
    return {"score": 0.0, "output": f"not graded: {reason}", "output_format": "text", "tests": []}
