"""Command line: `python -m mlmcourse data` and `python -m mlmcourse answers export`."""
from __future__ import annotations

import argparse
import sys

from .errors import CourseError


def _data(args) -> int:
    from .data import find_classroom
    path = find_classroom(download=True)
    print(f"classroom data: {path} (SHA-256 verified)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlmcourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("data", help="find or download the course data and verify its checksum")
    p.set_defaults(func=_data)
    try:
        from .answers_cli import add_answers_parser  # quiz answers: export etc.
    except ImportError:
        add_answers_parser = None
    if add_answers_parser is not None:
        add_answers_parser(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
