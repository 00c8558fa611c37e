"""Fair specs: no hidden test checks a behaviour the release does not state.

The checklist, in the source notebook's hidden tests: every ``assert`` (and ``raise AssertionError``) of a hidden
block comes after a ``# spec: <phrase>`` comment in that block, and each phrase occurs in the exercise's text as the
student reads it in the release: the markdown cells from the end of the previous exercise's tests up to this
exercise's first test cell, and the solution cell's stub (signature and docstring). Phrases are compared ignoring
case, line breaks and Markdown emphasis (backticks, asterisks). A spec comment names the property its asserts check,
in the words of the exercise ("NumPy arrays or tensors", "a new tensor, never a view"), so a reviewer reads each
hidden check next to the sentence that promised it; a hidden check with no such sentence fails here.
"""
import re

import nbformat
import pytest

from tlkit.course.grading import LESSON_IDS, nbgrader_meta
from tlkit.course.paths import LESSONS, SOLUTIONS

SPEC = re.compile(r"#\s*spec:\s*(.+?)\s*$")
CHECK = re.compile(r"^\s*(assert\b|raise AssertionError\b)")


def normal(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[`*\\]", "", text)).strip().lower()


def exercise_texts(lesson: str) -> dict[str, str]:
    """{graded function: the normalised text a student reads for it in the release}."""
    texts, pending, owner = {}, [], None
    for cell in nbformat.read(LESSONS / lesson / f"{lesson}.ipynb", 4).cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("solution"):
            owner, texts[meta["grade_id"]], pending = meta["grade_id"], pending + [cell.source], []
        elif cell.cell_type == "code" and meta.get("grade"):
            owner = None
        elif cell.cell_type == "markdown" and not meta.get("solution"):
            (texts[owner] if owner else pending).append(cell.source)   # after the stub: hints before its tests
    return {f: normal(" ".join(t)) for f, t in texts.items()}


def hidden_checks(lesson: str):
    """(test grade_id, function, [(line number, spec phrases in force, line)]) for each hidden block."""
    functions = sorted(exercise_texts(lesson), key=len, reverse=True)
    for cell in nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", 4).cells:
        meta = nbgrader_meta(cell)
        if not (meta.get("grade") and cell.cell_type == "code" and "### BEGIN HIDDEN TESTS" in cell.source):
            continue
        owner = next(f for f in functions if meta["grade_id"].startswith(f"test_{f}"))
        inside, specs, checks = False, [], []
        for number, line in enumerate(cell.source.splitlines(), 1):
            if "### BEGIN HIDDEN TESTS" in line:
                inside, specs = True, []
            elif "### END HIDDEN TESTS" in line:
                inside = False
            elif inside and (match := SPEC.search(line)):
                specs.append(match.group(1))
            elif inside and CHECK.match(line):
                checks.append((number, list(specs), line.strip()))
        yield meta["grade_id"], owner, checks


@pytest.mark.parametrize("lesson", LESSON_IDS)
def test_every_hidden_check_is_stated_in_the_release(lesson):
    texts = exercise_texts(lesson)
    problems = []
    for grade_id, owner, checks in hidden_checks(lesson):
        for number, specs, line in checks:
            if not specs:
                problems.append(f"{grade_id} line {number}: no '# spec:' before {line[:70]!r}")
        for phrase in {p for _, specs, _ in checks for p in specs}:
            if normal(phrase) not in texts[owner]:
                problems.append(f"{grade_id}: spec {phrase!r} is not in {owner}'s exercise text")
    assert not problems, "\n".join(problems)
