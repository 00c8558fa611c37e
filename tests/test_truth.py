"""Measured, never asserted: a lesson's markdown states no result figure and no verdict. Every measured number and
every confirmed / contradicted / in-line verdict is printed by a code cell; quoted source claims and published
anchors may appear in markdown only on blockquote lines ("> ...") that name their source."""
import re
from pathlib import Path

import nbformat
import pytest

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
LESSONS = sorted(p.parent.name for p in SOLUTIONS.glob("*/*.ipynb") if p.parent.name == p.stem)

FIGURE = re.compile(
    r"\d+(?:\.\d+)?\s?%"                      # a percentage
    r"|(?<![\w.])0\.\d{2,}\b"                 # an accuracy-like decimal, 0.784
    r"|\b\d+(?:\.\d+)?\s+(?:percentage\s+)?points?\b"  # "3.2 points"
    r"|\b(?:confirmed|contradicted|contradicts|confirms|in line with)\b", re.I)
CODE = re.compile(r"`[^`]*`|\$[^$]*\$")      # code spans and inline maths carry settings, not results


def offending_lines(markdown: str) -> list[str]:
    """The lines of a markdown cell that state a figure or verdict outside a blockquote or code."""
    found, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.lstrip().startswith(">"):
            continue
        if FIGURE.search(CODE.sub("", line)):
            found.append(line.strip())
    return found


def test_the_checker_itself():
    assert offending_lines("Top-1 is 78.4% here.") and offending_lines("accuracy 0.784")
    assert offending_lines("it costs 3.2 points") and offending_lines("The claim is contradicted.")
    assert not offending_lines("> Source (Day 24): \"45% without preprocessing\"")
    assert not offending_lines("Resize to 256, crop 224 px, batch 4, `lr = 1e-3`, `p = 0.875`, $x \\in [0, 1]$.")
    assert not offending_lines("```\naccuracy 0.95\n```")


@pytest.mark.parametrize("lesson", LESSONS)
def test_markdown_states_no_result_figures(lesson):
    nb = nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", 4)
    bad = [f"cell {i}: {line}" for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"
           for line in offending_lines(cell.source)]
    assert not bad, "figures or verdicts typed into markdown (compute them in a cell, or quote on a '> ' line):\n" \
        + "\n".join(bad)
