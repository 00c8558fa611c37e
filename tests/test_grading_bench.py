"""The grading benchmark (issue 26): the simulated class, the extrapolation, and the committed results/grading.json
(written by ``tlkit bench grading --json results/grading.json``, which grades the class twice and fails on any
difference between the two gradebooks)."""
from __future__ import annotations

import json

import pytest

from tlkit.course import grading, grading_bench
from tlkit.course.paths import LESSONS, README, SOLUTIONS
from tlkit.files import RESULTS, read_marked

LESSON = grading_bench.LESSON
RELEASE, SOURCE = LESSONS / LESSON / f"{LESSON}.ipynb", SOLUTIONS / LESSON / f"{LESSON}.ipynb"


def test_simulated_class_mixes_every_kind():
    subs = grading_bench.simulated_class(RELEASE, SOURCE, 24)
    kinds = [kind for kind, _ in subs.values()]
    assert len(subs) == 24 and {k: kinds.count(k) for k in set(kinds)} == {"solved": 9, "partial": 6, "blank": 4,
                                                                           "tampered": 5}
    exercises = set(grading.exercises(SOURCE))
    answered = []
    for kind, nb in subs.values():
        if kind == "partial":
            done = {grading.nbgrader_meta(c)["grade_id"] for c in nb.cells if c.cell_type == "code"
                    and grading.nbgrader_meta(c).get("solution") and "NotImplementedError" not in c.source}
            assert done and done < exercises
            answered.append(frozenset(done))
    assert len(set(answered)) > 1, "partial submissions should differ"
    again = grading_bench.simulated_class(RELEASE, SOURCE, 24)
    assert [str(nb) for _, nb in again.values()] == [str(nb) for _, nb in subs.values()], "seeded"
    with pytest.raises(ValueError, match="at least 8"):
        grading_bench.simulated_class(RELEASE, SOURCE, 7)


def test_extrapolation():
    cost = [{"total": 13.0, "nbgrader_start": 3.0}, {"total": 23.0, "nbgrader_start": 3.0}]
    e = grading_bench.extrapolate(cost, 2.0, students=360)
    assert e["seconds_per_student_all_lessons"] == 30.0
    assert e["sequential_hours"] == round((360 * 30 + 6) / 3600, 2) and e["parallel_hours"] == round(e[
        "sequential_hours"] / 2, 2)


def test_recorded_benchmark():
    """The committed figures: 24 students, identical gradebooks, the issue's 1.5x with 2 workers, every lesson's
    cost, and the extrapolation computed from them."""
    doc = json.loads((RESULTS / "grading.json").read_text())
    c = doc["class"]
    assert doc["command"].startswith("tlkit bench grading") and {"date", "device", "commit"} <= set(doc)
    assert c["students"] == 24 and c["workers"] == 2 and c["identical_gradebooks"] is True
    assert c["speedup"] >= 1.5 and c["speedup"] == round(c["sequential_seconds"] / c["parallel_seconds"], 2)
    assert c["points"]["solved-00"] == 16.0 and c["points"]["blank-00"] == 0.0
    assert [row["lesson"] for row in doc["cost"]] == grading.lesson_ids(SOLUTIONS)
    assert all(row["points"][0] == row["points"][1] for row in doc["cost"])
    assert doc["extrapolation"] == grading_bench.extrapolate(doc["cost"], c["speedup"])
    assert doc["load_before"][0] < 1.5, "started on a busy machine"
    assert read_marked(README, "grading") == grading_bench.readme_table(doc), \
        "README's grading block is stale: run `tlkit bench grading --update-readme`"
