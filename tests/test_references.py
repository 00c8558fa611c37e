"""One reference implementation per graded function: every solution cell's function (and any helper it defines)
is the tlkit function of the same name, statement for statement (docstrings and annotations aside). With the
autograde round trip (the solutions earn full marks on the hidden tests) this means the hidden tests pass on tlkit's
reference, and solution cells and library cannot drift apart silently."""
import ast
import inspect
import textwrap
from pathlib import Path

import nbformat
import pytest

from tlkit.course.audit import canonical, tlkit_references

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
LESSONS = sorted(p.parent.name for p in SOLUTIONS.glob("*/*.ipynb") if p.parent.name == p.stem)


def _graded_definitions(lesson):
    for cell in nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", 4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            for node in ast.parse(cell.source).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    yield meta["grade_id"], node


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_cells_are_the_tlkit_reference(lesson):
    library = tlkit_references()
    problems = []
    for grade_id, node in _graded_definitions(lesson):
        ref = library.get(node.name)
        if ref is None:
            problems.append(f"{grade_id}: no tlkit reference named {node.name!r}")
            continue
        theirs = ast.parse(textwrap.dedent(inspect.getsource(ref))).body[0]
        if canonical(node, rename=False) != canonical(theirs, rename=False):
            problems.append(f"{grade_id}: solution's {node.name} differs from {ref.__module__}.{node.name}")
    assert not problems, "\n".join(problems)
