"""The one ``tlkit`` command: ``tlkit check|audit|grade|hub|interview|record|reproduce|bench ...``
(also ``python -m tlkit``).

Subcommands register themselves in ``SUBCOMMANDS`` through ``subcommand``; each gets an argparse sub-parser and
returns the process exit code. The logic lives in the course modules (e.g. tlkit.course.audit), not here; each
module is imported only when its subcommand runs, so ``tlkit --help`` loads no torch.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

SUBCOMMANDS = {}


def subcommand(name: str, help: str):
    """Decorator: ``@subcommand("audit", "...")`` on ``def f(parser) -> run(args) -> int``."""
    def register(build):
        SUBCOMMANDS[name] = (help, build)
        return build
    return register


@subcommand("audit", "flag tampered, malformed or suspicious submissions before grading (exit 1 if any)")
def _audit(parser: argparse.ArgumentParser):
    parser.add_argument("lesson", help="lesson id, e.g. 01_preprocessing")
    parser.add_argument("--course", type=Path,
                        help="course root holding submitted/ and solutions/ (default: the current folder, or the "
                             "nearest one above it with nbgrader_config.py)")
    parser.add_argument("--student", action="append", help="only this student (repeatable)")
    parser.add_argument("--release", type=Path,
                        help="compare with this release notebook instead of generating one from solutions/")

    def run(args) -> int:
        from . import audit
        from .paths import course_root

        try:
            result = audit.audit(course_root(args.course), args.lesson, release=args.release, students=args.student)
        except audit.BadInput as err:
            print(f"tlkit audit: {err}", file=sys.stderr)
            return 2
        print(audit.format_flags(result, args.lesson))
        return 1 if any(result.values()) else 0
    return run


@subcommand("grade", "autograde a class in parallel into the course gradebook, as `nbgrader autograde` would "
                     "(exit 1 if some students failed, 2 on bad input)")
def _grade(parser: argparse.ArgumentParser):
    parser.add_argument("lesson", help="lesson id, e.g. 01_preprocessing")
    parser.add_argument("--workers", type=int, help="students graded at once (default: the CPU count)")
    parser.add_argument("--student", action="append",
                        help="regrade only this student, even if already graded (repeatable)")
    parser.add_argument("--shard", metavar="I/N",
                        help="only shard I of N (0 <= I < N): a stable split by student id, for batch jobs")
    parser.add_argument("--force", action="store_true",
                        help="regrade students already graded at their submission's timestamp")
    parser.add_argument("--course", type=Path,
                        help="course root holding nbgrader_config.py and submitted/ (default: the current folder, or "
                             "the nearest one above it with nbgrader_config.py)")
    parser.add_argument("--db", metavar="URL",
                        help="the gradebook's database URL (default: CourseDirectory.db_url of the course config), "
                             "e.g. postgresql://user@/gradebook?host=/run/postgresql")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="stop a student's grading after this long (the student fails; default: no limit "
                             "beyond nbgrader's per-cell timeout)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(args) -> int:
        import os
        import time

        from . import grade
        from .paths import course_root

        workers = args.workers if args.workers is not None else os.cpu_count() or 1
        t0 = time.perf_counter()
        try:
            outcomes = grade.grade(course_root(args.course), args.lesson, workers=workers, students=args.student,
                                   shard=args.shard, force=args.force, db_url=args.db, timeout=args.timeout,
                                   progress=not args.no_progress)
        except grade.BadInput as err:
            print(f"tlkit grade: {err}", file=sys.stderr)
            return 2
        print(grade.format_report(outcomes, args.lesson, time.perf_counter() - t0, workers))
        return grade.exit_code(outcomes)
    return run


@subcommand("hub", "run the course on JupyterHub for a class on this server: Unix accounts from a CSV, the exchange, "
                   "the Formgrader (needs root; exit 2 on bad input)")
def _hub(parser: argparse.ArgumentParser):
    parser.add_argument("--students", type=Path, required=True, metavar="CSV",
                        help="the class list: a CSV with the header username,password,role (instructor or student)")
    parser.add_argument("--ip", default="127.0.0.1",
                        help="address the hub listens on (default 127.0.0.1; 0.0.0.0 opens it to the network)")
    parser.add_argument("--port", type=int, default=8000, help="its port (default 8000)")
    parser.add_argument("--prefix", type=Path, default=Path("/"),
                        help="root of the exchange (PREFIX/srv/nbgrader/exchange), the global config "
                             "(PREFIX/etc/jupyter), new homes (PREFIX/home) and the hub's state (default /)")
    parser.add_argument("--grader", default="grader-tlkit",
                        help="the account that owns the course (default grader-tlkit)")

    def run(args) -> int:
        from . import hub

        return hub.main(args)
    return run


@subcommand("check", "grade your saved notebook exactly as the instructor's nbgrader autograde would "
                     "(exit 1 if points are lost, 2 on bad input)")
def _check(parser: argparse.ArgumentParser):
    parser.add_argument("notebooks", nargs="*", metavar="PATH_OR_ID",
                        help="a saved notebook (lessons/02_freezing/02_freezing.ipynb) or a lesson id (02_freezing)")
    parser.add_argument("--all", action="store_true", help="check every lesson (its notebook under lessons/)")
    parser.add_argument("--full-timeouts", action="store_true",
                        help="after a cell times out, give later cells nbgrader's full timeout too (slower)")
    parser.add_argument("--format", choices=("text", "gradescope"), default="text",
                        help="text: the table (default); gradescope: Gradescope's results.json for one notebook")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="write the report (or results.json) to FILE instead of printing it")
    parser.add_argument("--solutions", type=Path, default=None, help=argparse.SUPPRESS)  # tests: another source

    def run(args) -> int:
        import json
        import time

        from tlkit.files import atomic_write

        from . import check, grading
        from .paths import SOLUTIONS

        def emit(text: str) -> None:
            if args.output is None:
                print(text)
            else:  # whole or not at all: a grader reading results.json never sees half of it
                atomic_write(args.output, lambda f: f.write((text + "\n").encode()))

        def bad(reason: str) -> int:  # one line on stderr; for Gradescope also a results.json that says why
            print(f"tlkit check: {reason}", file=sys.stderr)
            if args.format == "gradescope":
                emit(json.dumps(check.gradescope_failure(reason), indent=2))
            return 2

        solutions = args.solutions or SOLUTIONS
        if args.all and args.notebooks:
            return bad("give notebooks or --all, not both")
        if args.format == "gradescope" and (args.all or len(args.notebooks) != 1):
            return bad(f"--format gradescope grades one notebook (given: "
                       f"{'--all' if args.all else ', '.join(args.notebooks) or 'none'})")
        targets = list(args.notebooks)
        if args.all:
            ids = grading.lesson_ids(solutions) if solutions.is_dir() else []
            if not ids:
                print(f"tlkit check: no lessons in {solutions} (instructor source missing: a student copy? "
                      f"`nbgrader validate lessons/<id>/<id>.ipynb` runs the visible tests)", file=sys.stderr)
                return 2
            targets = []
            for lesson in ids:  # lessons without a saved notebook (not generated yet) are skipped, and said so
                try:
                    targets.append(check.find_by_id(lesson, solutions))
                except check.BadInput as err:
                    print(f"tlkit check: skipped: {err}", file=sys.stderr)
            if not targets:
                return 2
        t0 = time.perf_counter()
        try:
            results = check.check(targets, solutions=solutions,
                                  later_timeout=None if args.full_timeouts else check.LATER_TIMEOUT)
        except check.BadInput as err:
            return bad(str(err))
        seconds = time.perf_counter() - t0
        if args.format == "gradescope":
            emit(json.dumps(check.gradescope(results[0], seconds), indent=2))
        else:
            emit(check.format_report(results, seconds=seconds))
        return check.exit_code(results)
    return run


@subcommand("interview", "the interview track: print INTERVIEW.md per question (day9_q7), per lesson (--lesson 04_dann), "
                         "or its index; --write / --check render it from the recorded figures")
def _interview(parser: argparse.ArgumentParser):
    from . import interview

    return interview.command(parser)


@subcommand("record", "run a solution notebook (quick profile) and record its headline figures in results/lessons/")
def _record(parser: argparse.ArgumentParser):
    from . import interview

    return interview.record_command(parser)


@subcommand("reproduce", "run a lesson's full-profile experiment on any device and write results/NAME.json "
                         "(--list, --table, --update-readme)")
def _reproduce(parser: argparse.ArgumentParser):
    parser.add_argument("name", nargs="?", help="experiment name (see --list)")
    parser.add_argument("--list", action="store_true", help="name the experiments and exit")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--seeds", help="comma-separated seeds (default: the experiment's own)")
    parser.add_argument("--size", default="full", choices=("smoke", "full"))
    parser.add_argument("--out", type=Path, help="folder for the result file (default: results/ of the checkout)")
    parser.add_argument("--table", action="store_true", help="print the results table from the result files")
    parser.add_argument("--update-readme", action="store_true", help="write the results table into README.md")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")

    def run(args) -> int:
        if not (args.name or args.list or args.table or args.update_readme):
            parser.error("name an experiment (or --list)")
        from . import reproduce

        return reproduce.main(args)
    return run


@subcommand("bench", "benchmarks: fit (images/s of tlkit.train.fit against the PyTorch tutorial's plain loop) or "
                     "grading (a simulated class: nbgrader autograde against tlkit grade, the cost per student)")
def _bench(parser: argparse.ArgumentParser):
    parser.add_argument("what", nargs="?", default="fit", choices=("fit", "grading"), help="which benchmark (fit)")
    parser.add_argument("--size", default="full", choices=("smoke", "full"), help="fit: smoke takes seconds")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--img", type=int, help="fit: input side in pixels (default 224)")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--workers", type=int,
                        help="fit: DataLoader workers of the plain loop; grading: tlkit grade's workers (default 2)")
    parser.add_argument("--compile", action="store_true", help="fit: torch.compile the model on the fit path")
    parser.add_argument("--students", type=int, default=24, help="grading: submissions in the simulated class")
    parser.add_argument("--no-cost", action="store_true", help="grading: skip the per-lesson cost per student")
    parser.add_argument("--update-readme", action="store_true",
                        help="grading: write README's grading block from results/grading.json (runs nothing)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")

    def run(args) -> int:
        if args.what == "grading":
            from . import grading_bench

            args.workers = 2 if args.workers is None else args.workers
            return grading_bench.main(args)
        from . import bench

        return bench.main(args)
    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="tlkit", description=__doc__.splitlines()[0].replace("``", ""))
    subs = parser.add_subparsers(dest="command", metavar="command")
    runners = {}
    for name, (help_text, build) in SUBCOMMANDS.items():
        runners[name] = build(subs.add_parser(name, help=help_text, description=help_text))
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv[1:]  # the subcommand's own words, for the result files' ``command``
    if args.command is None:
        parser.print_help()
        return 2
    return runners[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
