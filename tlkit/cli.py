"""The ``tlkit`` command: ``tlkit <subcommand> ...`` (also ``python -m tlkit``).

Subcommands register themselves in ``SUBCOMMANDS`` through ``subcommand``; each gets an argparse sub-parser and
returns the process exit code. The logic lives in the library modules (e.g. tlkit.audit), not here.
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
    parser.add_argument("--course", default=".", type=Path,
                        help="course root holding submitted/ and solutions/ (default: current folder)")
    parser.add_argument("--student", action="append", help="only this student (repeatable)")
    parser.add_argument("--release", type=Path,
                        help="compare with this release notebook instead of generating one from solutions/")

    def run(args) -> int:
        from tlkit import audit

        try:
            result = audit.audit(args.course, args.lesson, release=args.release, students=args.student)
        except audit.BadInput as err:
            print(f"tlkit audit: {err}", file=sys.stderr)
            return 2
        print(audit.format_report(result, args.lesson))
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

        from tlkit import check, grading

        solutions = args.solutions or grading.SOLUTIONS
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
                         "or its index")
def _interview(parser: argparse.ArgumentParser):
    from tlkit import interview

    return interview.command(parser)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="tlkit", description=__doc__.splitlines()[0])
    subs = parser.add_subparsers(dest="command", metavar="command")
    runners = {}
    for name, (help_text, build) in SUBCOMMANDS.items():
        runners[name] = build(subs.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return runners[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
