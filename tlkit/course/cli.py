"""The one ``tlkit`` command: ``tlkit check|audit|interview|record|reproduce|bench ...`` (also ``python -m tlkit``).

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


@subcommand("check", "grade your saved notebook exactly as the instructor's nbgrader autograde would "
                     "(exit 1 if points are lost, 2 on bad input)")
def _check(parser: argparse.ArgumentParser):
    parser.add_argument("notebooks", nargs="*", metavar="PATH_OR_ID",
                        help="a saved notebook (lessons/02_freezing/02_freezing.ipynb) or a lesson id (02_freezing)")
    parser.add_argument("--all", action="store_true", help="check every lesson (its notebook under lessons/)")
    parser.add_argument("--full-timeouts", action="store_true",
                        help="after a cell times out, give later cells nbgrader's full timeout too (slower)")
    parser.add_argument("--solutions", type=Path, default=None, help=argparse.SUPPRESS)  # tests: another source

    def run(args) -> int:
        import time

        from . import check, grading
        from .paths import SOLUTIONS

        solutions = args.solutions or SOLUTIONS
        if args.all and args.notebooks:
            print("tlkit check: give notebooks or --all, not both", file=sys.stderr)
            return 2
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
            print(f"tlkit check: {err}", file=sys.stderr)
            return 2
        print(check.format_report(results, seconds=time.perf_counter() - t0))
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


@subcommand("bench", "images/s of tlkit.train.fit against the PyTorch tutorial's plain loop")
def _bench(parser: argparse.ArgumentParser):
    parser.add_argument("--size", default="full", choices=("smoke", "full"))
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--img", type=int, help="input side in pixels (default 224)")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--workers", type=int, help="DataLoader workers of the plain loop")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model on the fit path")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")

    def run(args) -> int:
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
