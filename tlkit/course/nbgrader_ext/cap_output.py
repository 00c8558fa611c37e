"""Autograde step: each cell's output capped in characters (nbgrader's LimitOutput counts lines only)."""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer


class CapOutput(NbGraderPreprocessor):
    """Huge outputs (a solution printing megabytes, or a file it read): cap each cell's output size.

    nbgrader's LimitOutput counts lines only; one enormous line, or rich outputs, pass it. Text beyond
    ``max_chars`` per cell is cut, rich (non-text) outputs larger than ``max_chars`` are dropped.
    """

    max_chars = Integer(20000, help="Most characters of output kept per cell (-1: no limit).").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if self.max_chars < 0 or cell.cell_type != "code":
            return cell, resources
        budget, kept = self.max_chars, []
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                if len(out.text) > budget:
                    out.text = out.text[:max(budget, 0)] + "\n... output truncated by the grader ...\n"
                budget -= len(out.text)
            elif out.output_type in ("display_data", "execute_result"):
                size = sum(len(str(v)) for v in out.get("data", {}).values())
                if size > self.max_chars:
                    continue
            elif out.output_type == "error":
                out.evalue = out.evalue[:self.max_chars]
            kept.append(out)
        cell.outputs = kept
        return cell, resources
