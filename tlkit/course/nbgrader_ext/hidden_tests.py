"""generate_feedback step: the feedback a student receives keeps the hidden tests hidden."""
from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from .own_work import CHECK_LINE

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HIDDEN_NOTE = "# (hidden tests: not shown; they ran when this notebook was graded)"


def visible_source(source: str) -> str:
    """A test cell's source without its hidden tests (a note in their place) and without the own-work check."""
    lines, hidden = [], False
    prefix = CHECK_LINE.split("{")[0]
    for line in source.split("\n"):
        if line.strip() == BEGIN:
            hidden = True
            lines.append(line[:len(line) - len(line.lstrip())] + HIDDEN_NOTE)
        elif line.strip() == END:
            hidden = False
        elif not hidden and not line.startswith(prefix):
            lines.append(line)
    return "\n".join(lines)


class HideHiddenTests(NbGraderPreprocessor):
    """Per graded test cell the student sees the visible tests, the points (nbgrader's own header) and the first
    line of the error; never the hidden tests' source, a traceback line from them, or what they printed.

    nbgrader 0.9.6 shows the autograded notebook as it ran, hidden tests included (nbgrader #917, #1363, #1156).
    The formgrader (instructors) still shows everything: this runs only in ``GenerateFeedback``."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources
        had_hidden = BEGIN in cell.source
        cell.source = visible_source(cell.source)
        kept = []
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                message = (out.get("evalue") or "").strip().split("\n")[0][:300]
                out.evalue = message
                out.traceback = [f"{out.ename}: {message}" if message else out.ename]
                kept.append(out)
            elif not had_hidden:
                kept.append(out)
        cell.outputs = kept
        return cell, resources
