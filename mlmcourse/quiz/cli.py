"""The quiz's command line, part of ``python -m mlmcourse``:

    python -m mlmcourse answers export [--out FILE] [--format md|html] [--name NAME] [--chapter 2]
    python -m mlmcourse answers where
    python -m mlmcourse quiz encode|decode|check [FILE]     (instructors: question banks)
"""
from __future__ import annotations

import sys
from pathlib import Path


def _export(args) -> int:
    from ..errors import CourseError
    from .bank import load_bank
    from .handin import default_filename, export_answers, incomplete_warning
    from .store import AnswerStore

    bank = load_bank(chapter=args.chapter)
    store = AnswerStore(bank.chapter)
    try:
        out = args.out
        if out is None:  # the current folder, like most command-line tools
            fmt = args.format or "md"
            out = Path.cwd() / default_filename(bank, args.name if args.name is not None else store.student, fmt)
        path = export_answers(bank.chapter, out=out, fmt=args.format, student=args.name, store=store, bank=bank)
        answered = sum(1 for e in store.data["answers"].values() if str(e.get("answer", "")).strip())
        line = f"{bank.form}: {answered} of {len(bank.questions)} questions answered, written to {path}"
        problems = store.problems()
    finally:
        store.close()
    if problems:  # the file is there, but the student must look before handing it in: exit 2
        print(f"{line}, but check it: {'; '.join(problems)}")
        raise CourseError(incomplete_warning(path, problems))
    print(line)
    return 0


def _where(args) -> int:
    from .store import answers_path
    path = answers_path(args.chapter)
    print(f"{path}{'' if path.exists() else ' (nothing saved yet)'}")
    return 0


def _bank_tool(args) -> int:
    from .bank import bank_path, decoded_text, encode_file, load_bank

    path = args.file or str(bank_path(2))
    if args.bank_command == "encode":
        print(f"{path}: {encode_file(path)} field(s) encoded")
    elif args.bank_command == "decode":
        sys.stdout.write(decoded_text(path))
    else:
        bank = load_bank(path)
        for q in bank.questions:
            print(f"{q.id:8s} {q.kind:8s} {q.answer_expr or ''}")
        print(f"{path}: {len(bank.questions)} questions, valid")
    return 0


def add_parsers(sub) -> None:
    """Register ``answers`` (students) and ``quiz`` (instructors) with the course's command line."""
    p = sub.add_parser("answers", help="your saved quiz answers: export a hand-in file, show where they are")
    asub = p.add_subparsers(dest="answers_command", required=True)
    e = asub.add_parser("export", help="write your answers with the questions to a file you can hand in")
    e.add_argument("--out", default=None, help="file to write (default: ./W2-Activity-Form[-NAME].md)")
    e.add_argument("--format", choices=["md", "html"], default=None,
                   help="md (Markdown, default) or html; by default taken from --out's suffix")
    e.add_argument("--name", default=None, help="your name on the form (default: the one typed in the quiz)")
    e.add_argument("--chapter", type=int, default=2, help="chapter number (default 2)")
    e.set_defaults(func=_export)
    w = asub.add_parser("where", help="print the database your answers are saved in")
    w.add_argument("--chapter", type=int, default=2)
    w.set_defaults(func=_where)

    q = sub.add_parser("quiz", help="instructors: encode, decode or check a question bank")
    qsub = q.add_subparsers(dest="bank_command", required=True)
    for name, text in [("encode", "encode the plain solution fields of a bank file in place"),
                       ("decode", "print a bank file with its solution fields readable"),
                       ("check", "validate a bank file and list its questions")]:
        c = qsub.add_parser(name, help=text)
        c.add_argument("file", nargs="?", default=None, help="bank file (default: chapter 2's)")
        c.set_defaults(func=_bank_tool)
