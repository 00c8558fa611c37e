"""Sanitizer: invalid nbgrader metadata is repaired or dropped instead of aborting the class run."""
from __future__ import annotations

from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import NbGraderPreprocessor


class DropInvalidMetadata(NbGraderPreprocessor):
    """Invalid nbgrader metadata on a cell (e.g. ``schema_version`` removed, keys missing): drop it, don't abort.

    A cell whose metadata only lacks ``schema_version`` gets the current version back; anything still invalid loses
    its nbgrader metadata and becomes a plain cell. OverwriteCells (``add_missing_cells``) then puts the graded cell
    back from the gradebook, so the student is graded on the real tests instead of getting 0 for the notebook.
    """

    def preprocess(self, nb, resources):
        validator = MetadataValidator()
        known = self._known_grade_ids(resources)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                continue
            if isinstance(meta, dict) and meta and "schema_version" not in meta:
                meta["schema_version"] = validator.schema_version
            try:
                if not isinstance(meta, dict) or not meta:
                    raise ValueError("empty nbgrader metadata")
                if known is not None and meta.get("grade_id") is not None and meta["grade_id"] not in known:
                    raise ValueError(f"grade_id {meta['grade_id']!r} is not in the gradebook")  # a cell added
                validator.validate_cell(cell)
            except Exception as err:  # SchemaMismatchError, jsonschema.ValidationError, KeyError, ...
                self.log.warning("Invalid nbgrader metadata (%s) removed from cell: %.60r", err, cell.source)
                del cell.metadata["nbgrader"]
        return nb, resources

    @staticmethod
    def _known_grade_ids(resources):
        """grade_ids of the release's nbgrader cells (None when there is no gradebook to ask)."""
        info = resources.get("nbgrader", {})
        if not info.get("db_url"):
            return None
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(info["db_url"]) as gb:
            try:
                return {c.name for c in gb.find_notebook(info["notebook"], info["assignment"]).source_cells}
            except MissingEntry:
                return None
