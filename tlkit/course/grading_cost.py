"""Where one student's grading time goes, lesson by lesson (issue 26): ``python -m tlkit.course.grading_cost``.

    python -m tlkit.course.grading_cost                                # every lesson, one solved submission each
    python -m tlkit.course.grading_cost 01_preprocessing --json cost.json

Each lesson's reference solutions, filled into its release, are graded by one ``nbgrader autograde`` in a temporary
course with the repository's nbgrader_config.py and timing hooks that change no grade (the run must score full
marks, else it stops):

* nbgrader's side (``CONFIG_ADDITION``): every sanitize and autograde step timed (``timed_steps``), and the Execute
  step traced per cell (tlkit.course.check's ``traced_preprocessors``): kernel start-up, each cell, kernel shutdown;
* the kernel's side (an IPython start-up file through ``IPYTHONDIR``, ``kernel_hooks``): each cell's time split,
  innermost call first, into module imports, model building and weights loading (``tlkit.models.efficientnet_lite``,
  ``torch.load``), data loading (``tlkit.data``, ``tlkit.preprocessing.load_images`` / ``load_for``), model compute
  (``tlkit.train`` fit / predict / features / score / evaluate), figures (matplotlib's ``print_figure``) and the
  cell's own code; model compute and own code are reported by the kind of cell they run in (test cells, the
  student's solution cells, the lesson's other cells); plus the kernel's peak memory;
* the ``nbgrader autograde`` process as a whole, timed from outside: its start-up (Python, nbgrader, the config, the
  gradebook) is paid once per class run, the rest once per student.

Run it on an otherwise idle machine: the figures are seconds of wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

COST_ENV = "TLKIT_GRADING_COST"   # folder the hooks write to (both sides)
CONFIG_ADDITION = """

# --- tlkit.course.grading_cost: every grading step timed, the Execute step traced per cell ---
from tlkit.course import check as _tlkit_check, grading_cost as _tlkit_cost  # noqa: E402

c.Autograde.sanitize_preprocessors = _tlkit_cost.timed_steps(c.Autograde.sanitize_preprocessors, "sanitize")
c.Autograde.autograde_preprocessors = _tlkit_cost.timed_steps(
    _tlkit_check.traced_preprocessors(c.Autograde.autograde_preprocessors), "autograde")
"""
STARTUP = "from tlkit.course import grading_cost as _c\n_c.kernel_hooks()\ndel _c\n"
# what the kernel-side hooks time: module -> (part, functions)
TIMED = {
    "tlkit.models": ("weights", ["efficientnet_lite"]),
    "torch": ("weights", ["load"]),
    "tlkit.data": ("data", ["mnist", "usps", "bsds500_photos", "random_patches", "mnist_m", "imagenet_samples",
                            "imagenet_class_names", "hymenoptera"]),
    "tlkit.preprocessing": ("data", ["load_images", "load_for"]),
    "tlkit.train": ("compute", ["fit", "predict", "features", "score", "evaluate"]),
}
PARTS = ["imports", "weights", "data", "figures"]   # columns of their own, whichever cell they happen in
COLUMNS = ["total", "nbgrader_start", "nbgrader_per_student", "kernel_start", *PARTS, "test_cells",
           "solution_cells", "lesson_cells", "messaging", "kernel_stop"]


# --- nbgrader's side ---

def timed_steps(steps: list, phase: str) -> list:
    """nbgrader_config hook: every preprocessor class in ``steps`` writes its start and end time."""
    return [_timed(p, phase) if isinstance(p, type) else p for p in steps]


_TIMED_CLASSES: dict[tuple[type, str], type] = {}


def _timed(step: type, phase: str) -> type:
    if (step, phase) not in _TIMED_CLASSES:
        _TIMED_CLASSES[step, phase] = type(f"Timed{step.__name__}", (_StepTimer, step), {
            "_tlkit_step": step.__name__.removeprefix("Traced"), "_tlkit_phase": phase,
            "__doc__": f"{step.__name__}, timed into $" + COST_ENV + "/steps.jsonl"})
    return _TIMED_CLASSES[step, phase]


class _StepTimer:
    _tlkit_step = _tlkit_phase = ""

    def preprocess(self, nb, resources):
        start = time.time()
        try:
            return super().preprocess(nb, resources)
        finally:
            folder = os.environ.get(COST_ENV)
            if folder:
                with open(Path(folder) / "steps.jsonl", "a") as out:
                    out.write(json.dumps({"step": self._tlkit_step, "phase": self._tlkit_phase, "start": start,
                                          "end": time.time()}) + "\n")


# --- the kernel's side ---

def kernel_hooks() -> None:
    """In the grading kernel (IPython start-up file): each cell's seconds, split into ``PARTS`` and the cell's own
    code, appended as one JSON line per cell to $TLKIT_GRADING_COST/kernel-<pid>.jsonl."""
    import functools
    import hashlib
    import importlib._bootstrap as bootstrap
    import resource

    from IPython import get_ipython

    folder, shell = os.environ.get(COST_ENV), get_ipython()
    if not folder or shell is None:
        return
    out = Path(folder) / f"kernel-{os.getpid()}.jsonl"
    stack: list[list] = []   # [part, start, seconds spent in timed calls inside]
    parts: dict[str, float] = {}

    def enter(part):
        stack.append([part, time.perf_counter(), 0.0])

    def leave() -> float:
        part, start, inner = stack.pop()
        total = time.perf_counter() - start
        parts[part] = parts.get(part, 0.0) + total - inner
        if stack:
            stack[-1][2] += total
        return total

    def timed(part, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            enter(part)
            try:
                return func(*args, **kwargs)
            finally:
                leave()
        return wrapper

    def patch(name, module):
        if name in TIMED:
            part, functions = TIMED[name]
            for f in functions:
                if hasattr(module, f):
                    setattr(module, f, timed(part, getattr(module, f)))
        if name == "matplotlib.backend_bases":
            canvas = module.FigureCanvasBase
            canvas.print_figure = timed("figures", canvas.print_figure)

    original = bootstrap._find_and_load

    def find_and_load(name, import_):
        enter("imports")
        try:
            module = original(name, import_)
        finally:
            leave()
        patch(name, module)
        return module

    for name in [*TIMED, "matplotlib.backend_bases"]:
        if name in sys.modules:
            patch(name, sys.modules[name])
    bootstrap._find_and_load = find_and_load

    def pre_run_cell(info):
        if info.store_history:  # a notebook cell (the kernel guard's exec_lines are not)
            parts.clear()
            stack.clear()
            enter("cell")

    def post_run_cell(result):
        if not result.info.store_history or not stack:
            return
        while len(stack) > 1:
            leave()
        seconds = leave()
        record = {"sha": hashlib.sha1(result.info.raw_cell.encode()).hexdigest()[:12], "seconds": seconds,
                  "parts": dict(parts), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")

    shell.events.register("pre_run_cell", pre_run_cell)
    shell.events.register("post_run_cell", post_run_cell)


# --- one lesson ---

def measure(lesson: str, folder: Path, solutions: Path | None = None) -> dict:
    """Autograde ``lesson``'s solved release once in a course under ``folder``; its cost breakdown (seconds)."""
    import nbformat

    from . import check, grading
    from .paths import SOLUTIONS

    solutions = Path(solutions or SOLUTIONS)
    source = solutions / lesson / f"{lesson}.ipynb"
    (folder / "course").mkdir(parents=True)
    course = grading.new_course(folder / "course", lesson, solutions)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(CONFIG_ADDITION)
    release = grading.generate(course, lesson) / f"{lesson}.ipynb"
    solved = grading.fill_in(release, source)
    grading.submit(course, lesson, "solver", solved)
    hooks, trace, ipython = folder / "hooks", folder / "trace", folder / "ipython"
    for d in (hooks, trace, ipython / "profile_default" / "startup"):
        d.mkdir(parents=True)
    (ipython / "profile_default" / "startup" / "00-tlkit-grading-cost.py").write_text(STARTUP)
    env = {COST_ENV: str(hooks), check.TRACE_ENV: str(trace), "IPYTHONDIR": str(ipython)}
    t0 = time.time()
    proc = grading.run_nbgrader(course, "autograde", lesson, "--force", check=False, env=env, unset=check.DROPPED_ENV)
    total = time.time() - t0
    points = grading.total(grading.scores(course, lesson, "solver"))
    if proc.returncode != 0 or points[0] != points[1]:
        raise RuntimeError(f"{lesson}: the timed autograde did not give full marks ({points}, exit {proc.returncode})"
                           f":\n{proc.stderr[-2000:]}")
    steps = [json.loads(line) for line in (hooks / "steps.jsonl").read_text().splitlines()]
    traced = json.loads((trace / "solver.json").read_text())
    kernel_files = list(hooks.glob("kernel-*.jsonl"))
    if len(kernel_files) != 1:
        raise RuntimeError(f"{lesson}: {len(kernel_files)} kernel timing files (expected one kernel)")
    kernel = [json.loads(line) for line in kernel_files[0].read_text().splitlines()]
    return _breakdown(lesson, nbformat.read(source, 4), total, t0, steps, traced, kernel, points)


def _breakdown(lesson, source_nb, total, t0, steps, traced, kernel, points) -> dict:
    from . import grading

    cells = traced["cells"]
    if len(cells) != len(kernel):
        raise RuntimeError(f"{lesson}: nbgrader ran {len(cells)} cells, the kernel reports {len(kernel)}")
    kinds = {}
    for meta in (grading.nbgrader_meta(c) for c in source_nb.cells):
        if meta.get("grade_id"):
            kinds[meta["grade_id"]] = "solution_cells" if meta.get("solution") else "test_cells"
    execute = next(s for s in steps if s["step"] == "Execute")
    row = dict.fromkeys(COLUMNS, 0.0)
    row.update(total=total, nbgrader_start=min(s["start"] for s in steps) - t0,
               kernel_start=cells[0][2] if cells else 0.0)
    last = cells[-1] if cells else [0, None, 0.0, 0.0]
    row["kernel_stop"] = (execute["end"] - execute["start"]) - (last[2] + last[3])
    slow = []
    for (index, grade_id, _, seconds), inside in zip(cells, kernel):
        for part, spent in inside["parts"].items():
            row[part if part in PARTS else kinds.get(grade_id, "lesson_cells")] += spent  # compute, own code
        row["messaging"] += seconds - inside["seconds"]
        slow.append((seconds, index, grade_id, inside["parts"]))
    # gaps between cells (markdown cells, the trace's own writes) go with the messaging
    row["messaging"] += (last[2] + last[3]) - row["kernel_start"] - sum(c[3] for c in cells)
    row["nbgrader_per_student"] = total - row["nbgrader_start"] - (execute["end"] - execute["start"])
    texts = {i: c.source for i, c in enumerate(source_nb.cells)}
    return {"lesson": lesson, "points": list(points), "cells": len(cells), **{k: round(v, 2) for k, v in row.items()},
            "steps": {f'{s["phase"]}:{s["step"]}': round(s["end"] - s["start"], 3) for s in steps},
            "peak_kernel_mb": round(max((k["peak_mb"] for k in kernel), default=0.0)),
            "slowest_cells": [{"cell": i, "grade_id": g, "seconds": round(s, 2),
                               "parts": {k: round(v, 2) for k, v in p.items() if v >= 0.05},
                               "first_line": texts.get(i, "").strip().splitlines()[0][:80] if texts.get(i, "").strip()
                               else ""} for s, i, g, p in sorted(slow, reverse=True)[:5]]}


# --- the table ---

HEADERS = {"total": "total", "nbgrader_start": "nbg start", "nbgrader_per_student": "nbg/stud",
           "kernel_start": "kernel", "imports": "imports", "weights": "weights", "data": "data",
           "figures": "figures", "test_cells": "tests", "solution_cells": "answers",
           "lesson_cells": "lesson", "messaging": "messaging", "kernel_stop": "stop"}


def format_table(rows: list[dict]) -> str:
    """Seconds per lesson, one student, one column per place the time goes."""
    width = max(len("lesson"), *(len(r["lesson"]) for r in rows))
    head = f"{'lesson':<{width}}" + "".join(f"{HEADERS[c]:>10}" for c in COLUMNS) + f"{'peak MB':>9}"
    lines = [head] + [f"{r['lesson']:<{width}}" + "".join(f"{r[c]:>10.2f}" for c in COLUMNS)
                      + f"{r['peak_kernel_mb']:>9}" for r in rows]
    if len(rows) > 1:
        lines.append(f"{'sum':<{width}}" + "".join(f"{sum(r[c] for r in rows):>10.2f}" for c in COLUMNS))
    lines.append("nbg start: nbgrader's start-up, once per class run; nbg/stud: nbgrader's own work per student "
                 "(sanitize, convert, gradebook, writes); kernel/stop: kernel start-up/shutdown; imports ... figures: "
                 "inside any cell; tests/answers/lesson: the rest of the test cells, the solution cells and the "
                 "lesson's other cells (their compute and own code); messaging: nbclient <-> kernel")
    for r in rows:
        lines.append(f"{r['lesson']} slowest cells: " + "; ".join(
            f"#{c['cell']} {c['grade_id'] or c['first_line'][:40]!r} {c['seconds']:.1f} s {c['parts']}"
            for c in r["slowest_cells"][:3]))
    return "\n".join(lines)


def measure_lessons(lessons: list[str]) -> tuple[list[dict], list[str]]:
    """``measure`` each lesson in a temporary folder, printing its row as it ends and the table at the end: (rows,
    lessons not measured, each with its reason on stderr)."""
    rows, failed = [], []
    with tempfile.TemporaryDirectory(prefix="tlkit-cost-") as tmp:
        for lesson in lessons:
            try:
                rows.append(measure(lesson, Path(tmp) / lesson))
            except RuntimeError as err:  # e.g. the lesson is being edited and no longer scores full marks
                failed.append(lesson)
                print(f"{lesson}: not measured: {err}", file=sys.stderr)
                continue
            print(format_table(rows[-1:]).splitlines()[1], flush=True)
    if rows:
        print(format_table(rows))
    return rows, failed


def main(argv=None) -> int:
    from . import grading
    from .paths import SOLUTIONS

    parser = argparse.ArgumentParser(prog="python -m tlkit.course.grading_cost", description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson ids (default: every lesson)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    known = grading.lesson_ids(SOLUTIONS)
    unknown = [x for x in args.lessons if x not in known]
    if unknown:
        print(f"grading_cost: unknown lesson {', '.join(unknown)}; lessons: {', '.join(known)}", file=sys.stderr)
        return 2
    load = os.getloadavg()
    rows, failed = measure_lessons(args.lessons or known)
    if args.json:
        args.json.write_text(json.dumps({"cpus": os.cpu_count(), "load_before": load, "load_after": os.getloadavg(),
                                         "lessons": rows}, indent=1) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
