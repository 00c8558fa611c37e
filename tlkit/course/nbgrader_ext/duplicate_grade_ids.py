"""Sanitizer: a cell duplicated with its grade_id keeps the first copy's nbgrader metadata."""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor


class DropDuplicateGradeIds(NbGraderPreprocessor):
    """A cell duplicated with the same grade_id: keep the first one's nbgrader metadata, make the copies plain cells.

    Replaces nbgrader's DeduplicateIds, which keeps the *last* copy and leaves ``nbgrader: {}`` on the others; that
    empty metadata then fails validation as an "old version of the nbgrader metadata format" and aborts the whole
    class run (nbgrader issue #1083).
    """

    def preprocess(self, nb, resources):
        seen = set()
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id is None:
                continue
            if grade_id in seen:
                self.log.warning("Cell with grade_id '%s' appears more than once: the copy is graded as a plain cell",
                                 grade_id)
                del cell.metadata["nbgrader"]
            else:
                seen.add(grade_id)
        return nb, resources
