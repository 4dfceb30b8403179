"""The quiz's command line, part of ``python -m mlmcourse``.

python -m mlmcourse answers export [--out FILE] [--format md|html] [--name NAME] [--chapter 2]
python -m mlmcourse answers where
python -m mlmcourse quiz encode|decode|check [FILE]     (instructors: question banks)
python -m mlmcourse quiz answers --seed N | --handin FILE [--mistakes] [--file BANK]
                                                        (instructors: a student's expected answers)
python -m mlmcourse quiz grade PATH... --out DIR       (instructors: grade a class's hand-ins)
"""
from __future__ import annotations

import sys
from pathlib import Path

from .handin import seed_of_handin


def _answers_folder_usable() -> None:
    """Refuse, in a clear paragraph, an answers "folder" that is a file (MLMCOURSE_ANSWERS_DIR set wrong)."""
    from ..errors import CourseError
    from ..userfiles import answers_dir

    folder = answers_dir()
    if folder.exists() and not folder.is_dir():
        raise CourseError(f"The answers folder {folder} is a file, not a folder, so no answers can be read or "
                          "saved there. Point MLMCOURSE_ANSWERS_DIR at a folder (e.g. `export "
                          "MLMCOURSE_ANSWERS_DIR=~/mlm-answers`), or unset it to use the default one.")


def _export(args) -> int:
    from ..errors import CourseError
    from .bank import load_bank
    from .handin import default_filename, export_answers, incomplete_warning
    from .store import AnswerStore

    if args.out is not None and args.out.strip() == "-":
        raise CourseError("--out - (the screen) is not offered: a hand-in is a file. Give a file name, e.g. "
                          "`--out ~/W2-Activity-Form.md`, or leave --out out to write it in the current folder.")
    _answers_folder_usable()
    bank = load_bank(chapter=args.chapter)
    store = AnswerStore(bank.chapter)
    try:
        out = args.out
        folder = Path.cwd() if out is None else Path(out).expanduser()
        if out is None or folder.is_dir():  # a folder (default: the current one, like most tools)
            fmt = args.format or "md"
            out = folder / default_filename(bank, args.name if args.name is not None else store.student, fmt)
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
    _answers_folder_usable()
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


def expected_answers(bank, seed: int, context=None) -> list[dict]:
    """Return the expected answer of every numeric question of ``bank`` for the student with ``seed``.

    [{"id", "value", "tolerance", "data", "mistakes": [(value, message)]}], in the bank's order.
    """
    from .live import COMPUTATIONS, default_context

    ctx = (context or default_context()).for_seed(seed)
    rows = []
    for q in bank.questions:
        if q.kind != "numeric":
            continue
        value = ctx.value(q.answer_expr) if q.answer_expr else q.answer
        seeded = bool(q.answer_expr and COMPUTATIONS[q.answer_expr].seeded)
        mistakes = [(ctx.value(m.expr) if m.expr else m.value, m.message) for m in q.mistakes]
        rows.append({"id": q.id, "value": value, "tolerance": q.tolerance.describe(),
                     "data": f"{q.variant} data of seed {seed}" if seeded else "classroom data",
                     "mistakes": mistakes})
    return rows


def _grade(args) -> int:
    from .grade import grade_command
    return grade_command(args.paths, args.out, bank_file=args.file)


def _show(value) -> str:
    return format(value, ".6g") if isinstance(value, float) else str(value)


def _answers(args) -> int:
    from ..errors import CourseError
    from .bank import bank_path, load_bank
    from .variants import check_seed

    if args.seed is not None and args.handin is not None:
        raise CourseError("Give --seed N or --handin FILE, not both: --handin reads the seed from the file. "
                          "Drop one of them.")
    if args.seed is None and args.handin is None:
        raise CourseError("Give the student's seed: --seed N (it is on their hand-in file, 'Your data: "
                          "seed N'), or --handin FILE to read it from the file.")
    seed = check_seed(args.seed, where="--seed") if args.seed is not None else seed_of_handin(args.handin)
    bank = load_bank(args.file or bank_path(args.chapter))
    rows = expected_answers(bank, seed)
    print(f"{bank.form} ({bank.title}): expected answers for seed {seed}")
    width = max(len(r["id"]) for r in rows)
    tol = max(len(r["tolerance"]) for r in rows)
    for r in rows:
        print(f"{r['id']:<{width}}  {_show(r['value']):>12}  {r['tolerance']:<{tol}}  {r['data']}")
        if args.mistakes:
            for value, message in r["mistakes"]:
                print(f"{'':<{width}}  {_show(value):>12}  slip: {_short(message)}")
    return 0


def _short(text: str, limit: int = 72) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


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

    q = sub.add_parser("quiz", help="instructors: encode, decode or check a question bank; expected answers")
    qsub = q.add_subparsers(dest="bank_command", required=True)
    for name, text in [("encode", "encode the plain solution fields of a bank file in place"),
                       ("decode", "print a bank file with its solution fields readable"),
                       ("check", "validate a bank file and list its questions")]:
        c = qsub.add_parser(name, help=text)
        c.add_argument("file", nargs="?", default=None, help="bank file (default: chapter 2's)")
        c.set_defaults(func=_bank_tool)
    a = qsub.add_parser("answers", help="print the expected answers of the numeric questions for a student's seed")
    a.add_argument("--seed", default=None, help="the student's seed (on their hand-in file: 'Your data: seed N')")
    a.add_argument("--handin", default=None, help="read the seed from this hand-in file instead")
    a.add_argument("--mistakes", action="store_true", help="also print the values of the recognised slips")
    a.add_argument("--chapter", type=int, default=2, help="chapter number (default 2)")
    a.add_argument("--file", default=None, help="bank file (default: the chapter's)")
    a.set_defaults(func=_answers)
    g = qsub.add_parser("grade", help="grade a class's hand-in files: gradebook.csv and report.html in --out")
    g.add_argument("paths", nargs="+", metavar="PATH", help="hand-in files (.md, .html) and folders of them")
    g.add_argument("--out", required=True, help="folder to write gradebook.csv and report.html to")
    g.add_argument("--file", default=None, help="bank file (default: the chapter's the hand-ins name)")
    g.set_defaults(func=_grade)
