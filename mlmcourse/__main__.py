"""The course's one command line, ``python -m mlmcourse`` (or ``mlmcourse``).

    lab [OPTIONS]                open the course in JupyterLab (options go to jupyter lab)
    test [--fast] [OPTIONS]      run the course's tests (options go to pytest)
    data                         find or download the course data and verify its checksum
    answers export | where       your saved quiz answers (the hand-in file)
    quiz encode | decode | check instructors: question banks
    slides [SRC] [OUT]           offline reveal.js slides of the notebooks
    book [--pdf]                 the offline web book of the notebooks (and a PDF)
    execute PATH...              re-execute notebooks in place

A mistake (a missing file, a wrong option value) prints one line ``error: ...`` and exits with 2.
"""
from __future__ import annotations

import argparse
import sys

from .errors import CourseError


def _data(args) -> int:
    from .data import find_classroom
    path = find_classroom(download=True)
    print(f"classroom data: {path} (SHA-256 verified)")
    return 0


def parser() -> argparse.ArgumentParser:
    """Return the command line's parser, with every command's subparser registered."""
    from .quiz.cli import add_parsers as add_quiz
    from .tools.book import add_parser as add_book
    from .tools.execute import add_parser as add_execute
    from .tools.launch import add_parsers as add_launch
    from .tools.slides import add_parser as add_slides

    p = argparse.ArgumentParser(prog="python -m mlmcourse", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("data", help="find or download the course data and verify its checksum")
    d.set_defaults(func=_data)
    add_launch(sub)
    add_quiz(sub)
    add_slides(sub)
    add_book(sub)
    add_execute(sub)
    return p


def main(argv=None) -> int:
    """Run the command line; return the exit status (2 with one line ``error: ...`` on a mistake)."""
    from .tools.launch import split_passthrough
    known, extra = split_passthrough(list(sys.argv[1:] if argv is None else argv))
    args = parser().parse_args(known)
    if extra:
        args.extra = extra
    try:
        return args.func(args)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
