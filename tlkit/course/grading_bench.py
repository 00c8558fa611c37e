"""The grading benchmark (issue 26): ``tlkit bench grading`` (or ``python -m tlkit.course.grading_bench``).

    tlkit bench grading --json results/grading.json      # about 12 minutes on 2 cores
    tlkit bench grading --students 12 --no-cost          # the class part only
    tlkit bench grading --update-readme                  # README's grading block from results/grading.json

One run, on one machine:

* **the class**: ``students`` simulated submissions of lesson 01 (``simulated_class``: solved, partly solved, blank
  and tampered as issue 17 lists it: deleted, stripped and duplicated cells, a warning, an infinite loop, os._exit,
  malformed JSON, a misnamed file), graded twice from identical copies of one course: first by plain sequential
  ``nbgrader autograde 01_preprocessing``, then by ``tlkit grade 01_preprocessing --workers N``, each a command timed
  from outside, start-up included. The two gradebooks must be identical (every grade's score, needs-manual-grade,
  comment, timestamp: ``tlkit.course.grade.class_grades``), else the run fails;
* **the cost per student** of every lesson (``tlkit.course.grading_cost``: one solved submission, where the time goes);
* **the extrapolation** to ``CLASS`` students x every lesson: one student's seconds over all lessons (the cost part,
  nbgrader's start-up counted once per lesson), sequential, and divided by the speedup measured on the class.

The figures are wall-clock seconds: run it on an otherwise idle machine (the load average is recorded).
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from . import grade, grading, grading_cost
from .paths import SOLUTIONS

LESSON = "01_preprocessing"
CLASS = 200                                    # students of the extrapolation
TIMESTAMP = "2026-01-10 10:00:00.000000 UTC"   # every submission's timestamp.txt: both gradebooks get the same


def simulated_class(release: Path, source: Path, students: int = 24, seed: int = 0) -> dict[str, tuple[str, object]]:
    """{student: (kind, notebook or (file name, raw text))}: every tampered case of ``grading.tampered_01`` once, a
    sixth of the class blank, a quarter partly solved (a seeded random non-empty proper subset of the exercises
    each), the rest solved. Needs at least 8 students."""
    tampered = grading.tampered_01(release, source)
    if students < len(tampered) + 3:
        raise ValueError(f"a simulated class needs at least {len(tampered) + 3} students, got {students}")
    blank, partial = students // 6, students // 4
    solved = students - len(tampered) - blank - partial
    rng, exercises = random.Random(seed), grading.exercises(source)
    out = {f"solved-{i:02d}": ("solved", grading.fill_in(release, source)) for i in range(solved)}
    for i in range(partial):
        only = set(rng.sample(exercises, rng.randint(1, len(exercises) - 1)))
        out[f"partial-{i:02d}"] = ("partial", grading.fill_in(release, source, only=only))
    out |= {f"blank-{i:02d}": ("blank", nbformat.read(release, 4)) for i in range(blank)}
    out |= {f"tampered-{name}": ("tampered", nb) for name, nb in tampered.items()}
    return out


def _submit(course: Path, submissions: dict[str, tuple[str, object]]) -> None:
    for student, (_, nb) in submissions.items():
        name = nb[0].removesuffix(".ipynb") if isinstance(nb, tuple) else None
        path = grading.submit(course, LESSON, student, nb[1] if isinstance(nb, tuple) else nb, name=name)
        (path.parent / "timestamp.txt").write_text(TIMESTAMP)


def _per_student(report: str) -> dict[str, float]:
    """{student: seconds} from the time table of a ``tlkit grade`` report."""
    rows = [line.split() for line in report.splitlines()]
    return {r[0]: float(r[3]) for r in rows if len(r) >= 4 and r[1] in ("graded", "failed")}


def _points(grades: dict) -> float:
    """A student's autograded points (written answers, waiting for a person, and a notebook nbgrader could not
    read count 0)."""
    return sum(score or 0.0 for score, _ in grades["grades"].values())


def bench_class(students: int = 24, workers: int = 2, folder: Path | None = None) -> dict:
    """Grade the simulated class by sequential ``nbgrader autograde`` and by ``tlkit grade --workers N``."""
    with tempfile.TemporaryDirectory(prefix="tlkit-grading-bench-") as tmp:
        root = Path(folder or tmp)
        (root / "nbgrader").mkdir(parents=True)
        course = grading.new_course(root / "nbgrader", LESSON)
        release = grading.generate(course, LESSON) / f"{LESSON}.ipynb"
        submissions = simulated_class(release, SOLUTIONS / LESSON / f"{LESSON}.ipynb", students)
        _submit(course, submissions)
        other = root / "tlkit"
        shutil.copytree(course, other)
        print(f"{students} submissions of {LESSON}: sequential nbgrader autograde ...", flush=True)
        t0 = time.perf_counter()
        plain = grading.autograde_class(course, LESSON)
        sequential = time.perf_counter() - t0
        print(f"  {sequential:.0f} s; tlkit grade --workers {workers} ...", flush=True)
        t0 = time.perf_counter()
        ours = subprocess.run([sys.executable, "-m", "tlkit", "grade", LESSON, "--course", str(other), "--workers",
                               str(workers), "--no-progress"], capture_output=True, text=True)
        parallel = time.perf_counter() - t0
        print(f"  {parallel:.0f} s", flush=True)
        expected = grade.class_grades(f"sqlite:///{course / 'gradebook.db'}", LESSON, "tlkit")
        got = grade.class_grades(f"sqlite:///{other / 'gradebook.db'}", LESSON, "tlkit")
    if expected != got or set(expected) != set(submissions):
        raise RuntimeError(f"the gradebooks differ:\nnbgrader autograde: {expected}\ntlkit grade: {got}\n"
                           f"tlkit grade said:\n{ours.stdout[-3000:]}{ours.stderr[-3000:]}")
    seconds = _per_student(ours.stdout)
    kinds = [kind for kind, _ in submissions.values()]
    return {
        "lesson": LESSON, "students": students, "workers": workers,
        "kinds": {kind: kinds.count(kind) for kind in ("solved", "partial", "blank", "tampered")},
        "identical_gradebooks": True,
        "points": {s: _points(expected[s]) for s in submissions},
        "exit_codes": {"nbgrader_autograde": plain.returncode, "tlkit_grade": ours.returncode},
        "sequential_seconds": round(sequential, 1), "parallel_seconds": round(parallel, 1),
        "speedup": round(sequential / parallel, 2),
        "sequential_seconds_per_student": round(sequential / students, 2),
        "parallel_seconds_per_student": round(parallel / students, 2),
        "tlkit_grade_student_seconds": {s: seconds.get(s) for s in submissions},
    }


def extrapolate(cost: list[dict], speedup: float, students: int = CLASS) -> dict:
    """Hours to grade ``students`` x the lessons of ``cost`` on this machine: sequentially (one solved student's
    seconds per lesson, nbgrader's start-up once per lesson) and with the measured ``speedup``."""
    per_student = sum(r["total"] - r["nbgrader_start"] for r in cost)
    sequential = students * per_student + sum(r["nbgrader_start"] for r in cost)
    return {"students": students, "lessons": len(cost), "seconds_per_student_all_lessons": round(per_student, 1),
            "sequential_hours": round(sequential / 3600, 2), "speedup_applied": speedup,
            "parallel_hours": round(sequential / speedup / 3600, 2)}


def readme_table(doc: dict) -> str:
    """README's grading block, from a ``results/grading.json`` document: the class, the cost per lesson, the
    extrapolation and where the figures come from."""
    c = doc["class"]
    kinds = ", ".join(f"{n} {kind}" for kind, n in c["kinds"].items())
    lines = [f"{c['students']} submissions of `{c['lesson']}` ({kinds}), graded from identical copies of one course:",
             "", "| grader | wall time | per student | speedup | gradebook |", "|---|---|---|---|---|",
             f"| `nbgrader autograde` (one student after another) | {c['sequential_seconds']:.0f} s | "
             f"{c['sequential_seconds_per_student']:.1f} s | 1.00x | |",
             f"| `tlkit grade --workers {c['workers']}` | {c['parallel_seconds']:.0f} s | "
             f"{c['parallel_seconds_per_student']:.1f} s | {c['speedup']:.2f}x | "
             f"{'identical' if c['identical_gradebooks'] else 'DIFFERENT'} |"]
    if "cost" in doc:
        cols = ["total", "nbgrader_start", *grading_cost.COLUMNS[2:]]
        lines += ["", "One solved student per lesson, where the seconds go (`tlkit.course.grading_cost`; *nbg start* "
                  "is paid once per class run, the rest per student):", "",
                  "| lesson | " + " | ".join(grading_cost.HEADERS[k] for k in cols) + " | peak MB |",
                  "|---|" + "---|" * (len(cols) + 1)]
        lines += [f"| `{r['lesson']}` | " + " | ".join(f"{r[k]:.1f}" for k in cols) + f" | {r['peak_kernel_mb']} |"
                  for r in doc["cost"]]
        e = doc["extrapolation"]
        lines += ["", f"Extrapolated to {e['students']} students x {e['lessons']} lessons on this machine "
                  f"({e['seconds_per_student_all_lessons']:.0f} s per student for all lessons): "
                  f"**{e['sequential_hours']:.1f} h** with `nbgrader autograde`, **{e['parallel_hours']:.1f} h** with "
                  f"`tlkit grade --workers {c['workers']}` (the speedup measured above); n shards on n such machines "
                  "divide the second figure by n."]
    lines += ["", f"`{doc['command']}` on {doc['device']}, commit {doc['commit']}, "
              f"{doc['date'][:10]}; `results/grading.json`."]
    return "\n".join(lines)


def main(args) -> int:
    """``tlkit bench grading`` (its arguments are defined in tlkit.course.cli)."""
    import json

    from tlkit.files import RESULTS, replace_marked, write_json
    from tlkit.lesson.session import provenance

    from .paths import README

    if args.update_readme:
        replace_marked(README, "grading", readme_table(json.loads((RESULTS / "grading.json").read_text())))
        return 0

    load = os.getloadavg()
    if load[0] > 1.5:
        print(f"warning: load average {load[0]:.2f}: the machine is busy, the seconds will be too", file=sys.stderr)
    out = {"command": "tlkit bench " + " ".join(args.argv), "cpus": os.cpu_count(), "load_before": load,
           "class": bench_class(args.students, args.workers)}
    c = out["class"]
    print(f"{c['students']} students of {LESSON}: nbgrader autograde {c['sequential_seconds']:.0f} s "
          f"({c['sequential_seconds_per_student']:.1f} s/student), tlkit grade --workers {c['workers']} "
          f"{c['parallel_seconds']:.0f} s ({c['parallel_seconds_per_student']:.1f} s/student): {c['speedup']:.2f}x, "
          f"identical gradebooks")
    if not args.no_cost:
        rows, failed = grading_cost.measure_lessons(grading.lesson_ids(SOLUTIONS))
        if failed:
            raise RuntimeError(f"the cost of {', '.join(failed)} could not be measured (see above)")
        out["cost"] = rows
        out["extrapolation"] = e = extrapolate(rows, c["speedup"])
        print(f"{e['students']} students x {e['lessons']} lessons on this machine: {e['sequential_hours']:.1f} h "
              f"sequential, {e['parallel_hours']:.1f} h with tlkit grade --workers {c['workers']}")
    out |= {"load_after": os.getloadavg(), **provenance()}
    if args.json:
        write_json(out, args.json)
    return 0


if __name__ == "__main__":
    from .cli import main as cli_main

    sys.exit(cli_main(["bench", "grading", *sys.argv[1:]]))
