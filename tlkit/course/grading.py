"""The nbgrader round trip as a library: build a temporary course, generate the release, fill it in as a
student would, submit, autograde, read the scores.

Used by the tests, by ``tlkit audit`` (which compares submissions with a freshly generated release) and by later
``tlkit`` subcommands. nbgrader always runs as ``python -m nbgrader`` with this interpreter's ``bin/`` on ``PATH``
(nbgrader shells out to ``alembic`` when it creates a gradebook).
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from .paths import NBGRADER_CONFIG, SOLUTIONS

MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.M)


def lesson_ids(source: Path = SOLUTIONS) -> list[str]:
    """Lesson ids: folders of ``source`` holding a notebook of the same name (hidden folders ignored)."""
    return sorted(p.parent.name for p in Path(source).glob("*/*.ipynb")
                  if p.parent.name == p.stem and not p.parent.name.startswith("."))


LESSON_IDS = lesson_ids()


class BadInput(Exception):
    """A notebook, lesson id or course that a course tool cannot work on (the CLI prints it on one line, exit 2)."""


def nbgrader_env() -> dict[str, str]:
    """The environment for an nbgrader subprocess: this interpreter's ``bin/`` first on ``PATH``."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(course: Path, *args: str, check: bool = True, timeout: float | None = None,
                 env: dict[str, str] | None = None, unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run ``python -m nbgrader ARGS`` in ``course`` with ``env`` added to :func:`nbgrader_env` and the ``unset``
    variables removed (os.environ itself is left alone: thread-safe); raise AssertionError on failure when
    ``check``."""
    full_env = {k: v for k, v in nbgrader_env().items() if k not in unset}
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                          env=full_env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def new_course(tmp: Path, lesson: str, source: Path = SOLUTIONS) -> Path:
    """A temporary course directory in ``tmp`` with our nbgrader_config.py and the lesson's source."""
    tmp = Path(tmp)
    shutil.copy(NBGRADER_CONFIG, tmp / "nbgrader_config.py")
    shutil.copytree(Path(source) / lesson, tmp / "solutions" / lesson,
                    ignore=shutil.ignore_patterns(".*"))
    return tmp


def generate(course: Path, lesson: str) -> Path:
    """``nbgrader generate_assignment`` into course/lessons/<lesson>; returns that folder."""
    run_nbgrader(course, "generate_assignment", lesson, "--force")
    return Path(course) / "lessons" / lesson


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata ({} when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def fill_in(release: Path, source: Path, only=None) -> nbformat.NotebookNode:
    """The release notebook with every solution cell answered from the source (markers removed); with ``only``
    (grade_ids), just those cells (the rest keep the release's stub)."""
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in nbformat.read(source, 4).cells
               if nbgrader_meta(c).get("solution")}
    nb = nbformat.read(release, 4)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and (only is None or meta["grade_id"] in only):
            cell.source = MARKERS.sub("", answers[meta["grade_id"]])
    return nb


def exercises(source: Path) -> list[str]:
    """grade_ids of the code solution cells (the graded functions), in notebook order."""
    return [nbgrader_meta(c)["grade_id"] for c in nbformat.read(source, 4).cells
            if nbgrader_meta(c).get("solution") and c.cell_type == "code"]


def partially_solved(release: Path, source: Path) -> nbformat.NotebookNode:
    """The release with the reference solution in every other exercise (the 1st, 3rd, ...), written answers and
    the other exercises left as released: a learner halfway through."""
    return fill_in(release, source, only=set(exercises(source)[::2]))


def cell_index(nb, grade_id: str) -> int:
    """Index of the cell with this grade_id."""
    return next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") == grade_id)


def append_to_cell(nb, grade_id: str, code: str) -> nbformat.NotebookNode:
    """``code`` appended to the cell with this grade_id (in place; returns ``nb``)."""
    i = cell_index(nb, grade_id)
    nb.cells[i].source += "\n" + code
    return nb


def tampered_01(release: Path, source: Path) -> dict:
    """Lesson 01 tampered as issue 17 lists it, the cases whose grading runs student code: {student: notebook, or
    (file name, raw text)}. Graded by tests/test_grading.py and the grading benchmark (tlkit.course.grading_bench)."""
    solved = lambda: fill_in(release, source)  # noqa: E731
    subs = {}

    # a visible test cell deleted, another test cell's nbgrader metadata removed, a UserWarning from correct code
    nb = solved()
    del nb.cells[cell_index(nb, "test_to_batch")]
    del nb.cells[cell_index(nb, "test_resize_center_crop")].metadata["nbgrader"]
    i = cell_index(nb, "apply_preset")
    nb.cells[i].source = nb.cells[i].source.replace(
        'def apply_preset(x, preset):\n',
        'import warnings\n\ndef apply_preset(x, preset):\n'
        '    warnings.warn("apply_preset: a harmless warning", UserWarning)\n', 1)
    assert "warnings.warn" in nb.cells[i].source
    subs["cells"] = nb

    # a cell duplicated with the same grade_id; a cell whose schema_version is missing
    nb = solved()
    i = cell_index(nb, "test_top1_accuracy")
    nb.cells.insert(i + 1, nbformat.from_dict(json.loads(json.dumps(nb.cells[i]))))
    nb.cells[i + 1]["id"] = "duplicated-test-cell"
    del nb.cells[cell_index(nb, "test_guess_preset")].metadata["nbgrader"]["schema_version"]
    subs["dupes"] = nb

    # an infinite loop in one exercise (only on the test's input) and os._exit in another
    nb = solved()
    i = cell_index(nb, "top1_accuracy")
    nb.cells[i].source = nb.cells[i].source.replace('"""\n', '"""\n    while len(labels) == 4:\n        pass\n', 1)
    assert "while len(labels) == 4" in nb.cells[i].source
    i = cell_index(nb, "guess_preset")
    nb.cells[i].source = nb.cells[i].source.replace(
        '"""\n', '"""\n    import os\n    os._exit(1)\n', 1)
    assert "os._exit(1)" in nb.cells[i].source
    subs["runaway"] = nb

    # malformed JSON; the right answers saved under the wrong name
    subs["malformed"] = ("01_preprocessing.ipynb", nbformat.writes(solved())[:-200])
    subs["misnamed"] = ("01_preprocessing-Copy1.ipynb", nbformat.writes(solved()))
    return subs


def submit(course: Path, lesson: str, student: str, nb: nbformat.NotebookNode | str | bytes,
           name: str | None = None) -> Path:
    """Put a submission at course/submitted/<student>/<lesson>/<name or lesson>.ipynb (raw text kept as is)."""
    folder = Path(course) / "submitted" / student / lesson
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name or lesson}.ipynb"
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    elif isinstance(nb, str):
        path.write_text(nb)
    else:
        nbformat.write(nb, path)
    return path


def scores(course: Path, lesson: str, student: str, notebook: str | None = None) -> dict[str, tuple[float, float]]:
    """{grade_id: (auto score, max score)} for every autograded cell of a graded submission."""
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(Path(course) / "gradebook.db")) as gb:
        nb = gb.find_submission_notebook(notebook or lesson, lesson, student)
        return {g.name: (g.auto_score, g.max_score) for g in nb.grades if g.auto_score is not None}


def hidden_test_lines(source: Path) -> list[str]:
    """Stripped lines (12+ characters) of the source's hidden tests that appear nowhere in the release and nowhere in
    tlkit's own (public) source: what a learner must never be shown."""
    shown, hidden = set(), []
    for cell in nbformat.read(source, 4).cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "### END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) >= 12:
                hidden.append(line.strip())
            else:
                shown.add(line.strip())
    for module in Path(__file__).resolve().parents[1].rglob("*.py"):
        shown |= {line.strip() for line in module.read_text().splitlines()}
    return [line for line in hidden if line not in shown]


def feedback_text(course: Path, lesson: str, student: str) -> str:
    """The text a student reads on their feedback page (``nbgrader generate_feedback``), tags stripped."""
    page = (Path(course) / "feedback" / student / lesson / f"{lesson}.html").read_text()
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def needs_manual_grade(course: Path, lesson: str, student: str, notebook: str | None = None) -> set[str]:
    """grade_ids of a submission that nbgrader left for a person."""
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(Path(course) / "gradebook.db")) as gb:
        nb = gb.find_submission_notebook(notebook or lesson, lesson, student)
        return {g.name for g in nb.grades if g.needs_manual_grade}


def autograde_scores(course: Path, lesson: str, student: str) -> dict[str, tuple[float, float]]:
    """Autograde one submission; {grade_id: (auto score, max score)} for every autograded cell."""
    run_nbgrader(course, "autograde", lesson, "--student", student, "--force")
    return scores(course, lesson, student)


def autograde_class(course: Path, lesson: str, *options: str, timeout: float | None = None,
                    env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``nbgrader autograde <lesson> --force [options]`` for every submission; returned whatever its exit code."""
    return run_nbgrader(course, "autograde", lesson, "--force", *options, check=False, timeout=timeout, env=env)


def total(score: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """(points earned, points possible) of a ``scores`` result."""
    return sum(s for s, _ in score.values()), sum(m for _, m in score.values())


def visible_files(folder: Path) -> list[str]:
    """Files under ``folder``, relative, skipping hidden files and folders (JupyterLab's .ipynb_checkpoints/)."""
    folder = Path(folder)
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def comparable(path: Path) -> dict:
    """A notebook as JSON, cell ids, outputs and execution counts stripped (generation clears them anyway)."""
    nb = json.loads(Path(path).read_text())
    for cell in nb["cells"]:
        cell.pop("id", None)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def release_differences(fresh: Path, committed: Path) -> list[str]:
    """How the committed release folder differs from a freshly generated one ([] when in sync)."""
    fresh, committed = Path(fresh), Path(committed)
    if not committed.is_dir():
        return [f"{committed} is missing"]
    names, theirs = visible_files(fresh), visible_files(committed)
    problems = [f"{n} is missing from {committed}" for n in names if n not in theirs]
    problems += [f"{n} is in {committed} but not generated" for n in theirs if n not in names]
    for name in set(names) & set(theirs):
        if name.endswith(".ipynb"):
            same = comparable(fresh / name) == comparable(committed / name)
        else:
            same = (fresh / name).read_bytes() == (committed / name).read_bytes()
        if not same:
            problems.append(f"{name} differs: regenerate")
    return sorted(problems)
