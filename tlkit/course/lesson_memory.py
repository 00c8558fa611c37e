"""How much memory a student's kernel needs, lesson by lesson (issue 27): ``python -m tlkit.course.lesson_memory``.

    python -m tlkit.course.lesson_memory                              # every lesson, quick and grade profiles
    python -m tlkit.course.lesson_memory 02_freezing --profile quick --json results/hub.json

Each lesson's solved notebook is executed (``jupyter nbconvert --execute``, its own folder as the working directory)
in the given profile, with ``tlkit.course.grading_cost``'s kernel hooks in an IPython start-up file: after every cell
they write the kernel's peak resident memory so far (``ru_maxrss``). The result per lesson and profile: the peak, the
floor (the peak after the first cell: the imports), and the cells that raised the peak most. ``--json`` merges the
figures into the file's ``lesson_memory`` key (other keys kept), with the command, device, commit and date.

Run it on an otherwise idle machine (one lesson at a time); memory does not depend on load, the seconds do.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import grading_cost

PROFILES = ("quick", "grade")
# peak resident memory of the kernel: quick, issue 27's target (a student's lesson on a hub); grade, a guard against
# regressions (the largest measured peak, lesson 09's 1.52 GB, and 5 %), not the issue's 1 GB: every lesson's kernel
# holds 828-856 MB after its imports (PyPI's CUDA torch wheel alone 507 MB, the CPU wheel 218 MB; torchvision.ops
# imports torch._dynamo and triton, 165 MB), so 1 GB would leave under 200 MB to grade in
LIMIT_MB = {"quick": 2048, "grade": 1600}


def measure(lesson: str, profile: str, solutions: Path) -> dict:
    """Execute ``lesson``'s solved notebook in ``profile``; its kernel's peak memory (MB), floor and biggest jumps."""
    import nbformat

    source = solutions / lesson / f"{lesson}.ipynb"
    with tempfile.TemporaryDirectory(prefix="tlkit-memory-") as tmp:
        hooks, ipython = Path(tmp) / "hooks", Path(tmp) / "ipython"
        startup = ipython / "profile_default" / "startup"
        hooks.mkdir()
        startup.mkdir(parents=True)
        (startup / "00-tlkit-memory.py").write_text(grading_cost.STARTUP)
        env = {**os.environ, "TLKIT_PROFILE": profile, grading_cost.COST_ENV: str(hooks), "IPYTHONDIR": str(ipython)}
        start = time.time()
        proc = subprocess.run(["jupyter", "nbconvert", "--to", "notebook", "--execute", "--output",
                               str(Path(tmp) / "out.ipynb"), "--ExecutePreprocessor.timeout=1800", str(source)],
                              cwd=source.parent, env=env, capture_output=True, text=True)
        seconds = time.time() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{lesson} ({profile}) failed:\n{proc.stderr[-2000:]}")
        cells = [json.loads(line) for f in hooks.glob("kernel-*.jsonl") for line in f.read_text().splitlines()]
    code = [c.source.strip() for c in nbformat.read(source, 4).cells if c.cell_type == "code"]
    peaks = [c["peak_mb"] for c in cells]
    jumps = sorted(((b - a, i) for i, (a, b) in enumerate(zip([0.0, *peaks], peaks)) if i > 0), reverse=True)[:3]
    return {"peak_mb": round(max(peaks)), "floor_mb": round(peaks[0]), "seconds": round(seconds, 1), "biggest_jumps": [
                {"cell": i, "mb": round(mb), "first_line": (code[i].splitlines() or [""])[0][:80]}
                for mb, i in jumps if mb >= 50]}


def readme_table(doc: dict) -> str:
    """README's memory block from ``results/hub.json``: each lesson's peak in both profiles, the load test's figures."""
    m = doc["lesson_memory"]
    lines = ["| lesson | quick: peak MB | quick: after imports | grade: peak MB |", "|---|---|---|---|"]
    lines += [f"| `{lesson}` | {p['quick']['peak_mb']} | {p['quick']['floor_mb']} | {p['grade']['peak_mb']} |"
              for lesson, p in sorted(m["lessons"].items())]
    lines += ["", f"Peak resident memory of the lesson's kernel (`{m['command']}` on {m['device']}, torch {m['torch']}, "
              f"commit {m['commit']}, {m['date'][:10]}; limits {LIMIT_MB['quick']} MB quick, {LIMIT_MB['grade']} MB "
              "grade)."]
    if "load" in doc:
        d = doc["load"]
        first = [s["first_kernel_s"] for s in d["per_student"].values()]
        seconds = [s["seconds"] for s in d["per_student"].values()]
        lines += ["", f"Load test (`{d['command']}`, {d['device']}, {d['memory_gb']} GB, commit {d['commit']}, "
                  f"{d['date'][:10]}): {d['students']} students ran `{d['lesson']}` ({d['profile']} profile) at once, "
                  f"{d['completed']} of {d['students']} completed; hub up in {d['hub_start_s']} s; first kernel "
                  f"{min(first):.1f}-{max(first):.1f} s after the login click; each run {min(seconds):.0f}-"
                  f"{max(seconds):.0f} s (alone: {d['alone_seconds']:.0f} s); peak resident memory per student "
                  f"(JupyterLab server + kernel) up to {d['max_peak_rss_gb']} GB."]
    return "\n".join(lines)


def main(argv=None) -> int:
    from tlkit import files
    from tlkit.lesson.session import provenance

    from . import grading
    from .paths import SOLUTIONS

    parser = argparse.ArgumentParser(prog="python -m tlkit.course.lesson_memory", description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson ids (default: every lesson)")
    parser.add_argument("--profile", nargs="+", choices=PROFILES, default=list(PROFILES))
    parser.add_argument("--json", type=Path, help="merge the figures into this file's 'lesson_memory' key")
    parser.add_argument("--update-readme", action="store_true",
                        help="only write README's memory block from results/hub.json")
    args = parser.parse_args(argv)
    if args.update_readme:
        from tlkit.files import RESULTS, replace_marked

        from .paths import README
        replace_marked(README, "memory", readme_table(json.loads((RESULTS / "hub.json").read_text())))
        return 0
    known = grading.lesson_ids(SOLUTIONS)
    unknown = [x for x in args.lessons if x not in known]
    if unknown:
        print(f"lesson_memory: unknown lesson {', '.join(unknown)}; lessons: {', '.join(known)}", file=sys.stderr)
        return 2
    record = json.loads(args.json.read_text()) if args.json and args.json.exists() else {}
    table = record.setdefault("lesson_memory", {})
    table.setdefault("lessons", {})
    over, load = [], os.getloadavg()
    for lesson in args.lessons or known:
        for profile in args.profile:
            row = measure(lesson, profile, SOLUTIONS)
            table["lessons"].setdefault(lesson, {})[profile] = row
            over += [f"{lesson} {profile}"] * (row["peak_mb"] > LIMIT_MB[profile])
            print(f"{lesson:<32} {profile:<6} peak {row['peak_mb']:>5} MB (limit {LIMIT_MB[profile]}), floor "
                  f"{row['floor_mb']} MB, {row['seconds']:.0f} s; jumps: "
                  + "; ".join(f"cell {j['cell']} +{j['mb']} MB" for j in row["biggest_jumps"]), flush=True)
            if args.json:
                table.update(command="python -m tlkit.course.lesson_memory " + " ".join(argv or sys.argv[1:]),
                             load_before=load, **provenance())
                files.write_json(record, args.json)
    if over:
        print(f"over the limit: {', '.join(over)}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
