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
