"""``python -m tlkit.course.lesson_memory`` (issue 27): each lesson's kernel memory, measured and within its limit."""
from __future__ import annotations

import json

from tlkit.course import hub, lesson_memory
from tlkit.course.grading import lesson_ids
from tlkit.course.paths import FIXTURES, SOLUTIONS
from tlkit.files import RESULTS


def test_measure_reports_peak_floor_and_jumps():
    row = lesson_memory.measure("tiny", "grade", FIXTURES)
    assert 20 < row["floor_mb"] <= row["peak_mb"] < 2000
    assert row["seconds"] > 0
    assert all(j["mb"] >= 50 for j in row["biggest_jumps"])


def test_every_lesson_recorded_within_its_limit():
    record = json.loads((RESULTS / "hub.json").read_text())["lesson_memory"]
    assert {"command", "device", "commit", "date"} <= set(record)
    lessons = record["lessons"]
    assert set(lessons) == set(lesson_ids(SOLUTIONS)), "re-run: python -m tlkit.course.lesson_memory --json results/hub.json"
    for lesson, profiles in lessons.items():
        for profile, limit in lesson_memory.LIMIT_MB.items():
            assert profiles[profile]["peak_mb"] <= limit, f"{lesson} {profile}: {profiles[profile]}"


def test_hub_memory_limit_holds_every_lesson():
    lessons = json.loads((RESULTS / "hub.json").read_text())["lesson_memory"]["lessons"]
    assert max(p["quick"]["peak_mb"] for p in lessons.values()) * 2**20 < hub.MEM_LIMIT


def test_readme_memory_block_is_current():
    from tlkit.course.paths import README
    from tlkit.files import read_marked

    doc = json.loads((RESULTS / "hub.json").read_text())
    assert read_marked(README, "memory") == lesson_memory.readme_table(doc), \
        "README's memory block is stale: run `python -m tlkit.course.lesson_memory --update-readme`"
