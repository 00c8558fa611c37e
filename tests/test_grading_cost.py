"""``python -m tlkit.course.grading_cost`` (issue 26): where one student's grading time goes, on the tiny fixture."""
from __future__ import annotations

import pytest

from tlkit.course import grading_cost
from tlkit.course.paths import FIXTURES


def test_breakdown_adds_up_and_changes_no_grade(tmp_path):
    row = grading_cost.measure("tiny", tmp_path, solutions=FIXTURES)
    assert row["points"] == [3.0, 3.0]                        # the hooks change no grade
    assert row["cells"] == 5                                  # every code cell, timed on both sides
    assert sum(row[c] for c in grading_cost.COLUMNS[1:]) == pytest.approx(row["total"], abs=0.05)
    assert all(row[c] >= 0 for c in grading_cost.COLUMNS if c != "messaging")
    assert row["kernel_start"] > 0 and row["nbgrader_start"] > 0
    assert {"sanitize:ClearOutput", "autograde:Execute", "autograde:SaveAutoGrades"} <= set(row["steps"])
    assert row["slowest_cells"][0]["seconds"] >= row["slowest_cells"][-1]["seconds"]


def test_table_names_every_column(tmp_path):
    row = dict.fromkeys(grading_cost.COLUMNS, 1.0) | {"lesson": "x", "peak_kernel_mb": 1, "slowest_cells": []}
    head = grading_cost.format_table([row]).splitlines()[0]
    assert all(grading_cost.HEADERS[c] in head for c in grading_cost.COLUMNS)
