"""Autograde step: each graded test cell first checks that the exercise it grades is the student's own work."""
from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

# the first line of a graded test cell at autograde time (tlkit.course.own_work.require_own)
CHECK_LINE = '__import__("tlkit.course.own_work", fromlist=["require_own"]).require_own(globals(), {name!r})'


def exercise_of(test_id: str, functions: list[str]) -> str | None:
    """The graded function a test cell grades: our convention names it ``test_<function>...`` (the longest match)."""
    matches = [f for f in functions if test_id == f"test_{f}" or test_id.startswith(f"test_{f}_")]
    return max(matches, key=len) if matches else None


class RequireOwnWork(NbGraderPreprocessor):
    """Put ``require_own(globals(), "<function>")`` in front of every graded test cell: an exercise answered with
    tlkit's own object, an alias of it or a thin wrapper around it scores 0, with a one-line reason
    ("to_batch is tlkit.preprocessing.to_batch: write your own"). Runs after OverwriteCells (the test cells are the
    instructor's) and before Execute; the generated feedback hides the line again (HideHiddenTests)."""

    def preprocess(self, nb, resources):
        functions = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                     if c.cell_type == "code" and utils.is_solution(c) and not utils.is_grade(c)]
        for cell in nb.cells:
            if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
                name = exercise_of(cell.metadata["nbgrader"]["grade_id"], functions)
                if name is not None:
                    cell.source = CHECK_LINE.format(name=name) + "\n" + cell.source
        return nb, resources
