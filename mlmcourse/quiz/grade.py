"""Grade a class's hand-in files: ``python -m mlmcourse quiz grade PATH... --out DIR``.

Each hand-in is read from its machine-readable block (:func:`mlmcourse.quiz.handin.read_handin`),
never from its prose. A numeric answer is checked by the quiz's own check
(:func:`mlmcourse.quiz.checking.check_numeric`) against that student's expected value, computed
from their seed, within the question's tolerance; a choice against the bank's key. Open answers
are not scored; the report shows them.

Writes ``DIR/gradebook.csv`` (one row per hand-in: student, seed, score, out_of, one column per
numeric or choice question holding 1, 0 or empty, file, flags) and ``DIR/report.html``
(:mod:`mlmcourse.quiz.report`). A file that cannot be read, or in a folder a file that is not a
hand-in (see :func:`collect`), is reported with the reason and the others are graded; the command
then exits with 1.

Speed: the chapter's fits (seed-free values) are computed once and shared by every student's
context; each seed's values are computed once (two hand-ins with one seed share them), and only
those a hand-in needs (a slip's value only for a wrong answer). ``MLMCOURSE_GRADE_WORKERS=N``
shares the seeds among N forked processes, which inherit the chapter's fits.
"""
from __future__ import annotations

import csv
import multiprocessing
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CourseError
from .bank import Bank, load_bank
from .checking import check_choice, check_numeric
from .handin import BLOCK_TAG, HandIn, bank_version, read_handin

SUFFIXES = (".md", ".markdown", ".html", ".htm")
WORKERS_ENV = "MLMCOURSE_GRADE_WORKERS"   # how many processes grade (default 1: see _workers)
MAX_OTHER_SIZE = 50_000_000                # bytes: a larger file of another name is not searched for a block
MIN_SEEDS_FOR_WORKERS = 4                 # fewer seeds are graded in this process (a fork costs more)


@dataclass
class Row:
    """One graded hand-in."""

    handin: HandIn
    cells: dict                                   # question id -> 1, 0 or None (unanswered)
    slips: dict = field(default_factory=dict)     # question id -> index of the recognised slip, "nan" (not a number)
    unchecked: dict = field(default_factory=dict)  # question id -> why an answer could not be checked
    flags: list = field(default_factory=list)

    @property
    def score(self) -> int:
        """Return the number of questions answered right."""
        return sum(1 for v in self.cells.values() if v == 1)


@dataclass
class Result:
    """The grading of a class: the bank, a row per graded hand-in, and the files skipped with the reason."""

    bank: Bank
    rows: list
    skipped: list                                 # [(path, reason)]

    @property
    def graded_ids(self) -> list[str]:
        """Return the ids of the questions scored, in the bank's order."""
        return graded_ids(self.bank)


def graded_ids(bank: Bank) -> list[str]:
    """Return the questions scored: numeric and multiple-choice, in the bank's order."""
    return [q.id for q in bank.questions if q.auto]


# -- finding and reading the files -----------------------------------------------------------
def collect(paths) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Return the hand-in files among ``paths``, and the paths that give none, with the reason.

    Files, and every file in folders, in name order. In a folder, a file whose name does not end
    in .md or .html (an LMS download renames ``alice.md`` to ``alice.md.txt``) is read if it
    holds a hand-in block and listed as skipped otherwise; only hidden files (``.DS_Store``) are
    passed over.
    """
    files, skipped = [], []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file()
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            others = [f for f in found if f.suffix.lower() not in SUFFIXES]
            found = [f for f in found if f.suffix.lower() in SUFFIXES or _holds_block(f)]
            skipped += [(f, "not a hand-in file: its name does not end in .md or .html and it holds no "
                            "hand-in block") for f in others if f not in found]
            if not found and not others:
                skipped.append((p, "the folder holds no hand-in files (.md or .html)"))
            files += found
        elif p.exists():
            files.append(p)
        else:
            skipped.append((p, "no such file or folder"))
    unique = {}
    for f in files:   # a file named twice (itself and in its folder) is graded once
        unique.setdefault(f.resolve(), f)
    return list(unique.values()), skipped


def _holds_block(path: Path) -> bool:
    """Whether a file (of another name) holds a hand-in block, UTF-8 or UTF-16 (then read_handin says so)."""
    try:
        if path.stat().st_size > MAX_OTHER_SIZE:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    return any(tag in data for tag in (BLOCK_TAG.encode(), BLOCK_TAG.encode("utf-16-le"),
                                       BLOCK_TAG.encode("utf-16-be")))


# -- grading ---------------------------------------------------------------------------------
class Grader:
    """Grades hand-ins of one bank; every seed's context (its data, fits and values) made once."""

    def __init__(self, bank: Bank, context=None):
        from .live import Context
        self.bank = bank
        self.base = context if context is not None else Context()
        self._contexts: dict = {}

    def context(self, seed):
        """Return the live values of the student with ``seed`` (their data and fits), computed once per seed."""
        if seed not in self._contexts:
            self._contexts[seed] = self.base.for_seed(seed)
        return self._contexts[seed]

    def warm(self) -> None:
        """Compute the values that do not depend on the seed (the chapter's fits) now."""
        from .live import COMPUTATIONS
        for q in self.bank.questions:
            for name in [q.answer_expr, *(m.expr for m in q.mistakes)]:
                if name and not COMPUTATIONS[name].seeded:
                    self.base.value(name)

    def grade(self, handin: HandIn) -> Row:
        """Grade one hand-in as the live quiz checked it: 1, 0 or None (unanswered) per question, and the slips."""
        ctx = self.context(handin.seed)
        row = Row(handin, {})
        for q in self.bank.questions:
            if not q.auto:
                continue
            entry = handin.answers.get(q.id) or {}
            answer = entry.get("answer")
            if answer is None or (isinstance(answer, str) and not answer.strip()):
                row.cells[q.id] = None
                continue
            try:
                if q.kind == "choice":
                    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(q.choices):
                        raise CourseError(f"the choice {answer!r} is not one of the {len(q.choices)} choices")
                    result = check_choice(q, answer)
                else:
                    result = check_numeric(q, answer, ctx.value)
            except CourseError as exc:
                if q.kind == "numeric" and "not a number" in str(exc):
                    row.cells[q.id], row.slips[q.id] = 0, "nan"   # the live quiz would not accept it either
                else:
                    row.cells[q.id], row.unchecked[q.id] = None, str(exc)
                continue
            row.cells[q.id] = 1 if result["correct"] else 0
            if not result["correct"] and result.get("mistake_index") is not None:
                row.slips[q.id] = result["mistake_index"]
        return row


def _workers(n_seeds: int) -> int:
    """Return the number of grading processes: one unless MLMCOURSE_GRADE_WORKERS asks for more.

    More only when fork is available. On the shared 2-core machine of the benchmark, two forked
    workers took 24 s for 200 hand-ins where one process took 12 s, so more processes are an
    option, not the default.
    """
    wanted = os.environ.get(WORKERS_ENV, "").strip()
    if (not wanted.isdigit() or int(wanted) <= 1 or n_seeds < MIN_SEEDS_FOR_WORKERS
            or "fork" not in multiprocessing.get_all_start_methods()):
        return 1
    return int(wanted)


_GRADER: Grader | None = None   # the forked workers' grader (inherited from the parent)


def _grade_seed_group(handins: list[HandIn]) -> list[Row]:
    return [_GRADER.grade(h) for h in handins]


def grade_handins(handins: list[HandIn], bank: Bank, grader: Grader | None = None) -> list[Row]:
    """Grade hand-ins (in their order), sharing each seed's values; flags added."""
    global _GRADER
    grader = grader or Grader(bank)
    groups: dict = {}
    for i, h in enumerate(handins):
        groups.setdefault(h.seed, []).append(i)
    workers = _workers(len(groups))
    rows: list = [None] * len(handins)
    if workers > 1:
        grader.warm()   # the chapter's fits, once, before the workers are forked (they inherit them)
        _GRADER = grader
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)   # fork with threads: numpy's are fork-safe
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    order = list(groups.values())
                    results = pool.map(_grade_seed_group, [[handins[i] for i in g] for g in order], chunksize=4)
        finally:
            _GRADER = None
        for idx, graded in zip(order, results):
            for i, r in zip(idx, graded):
                rows[i] = r
    else:
        for i, h in enumerate(handins):
            rows[i] = grader.grade(h)
    add_flags(rows, bank)
    return rows


def add_flags(rows: list[Row], bank: Bank) -> None:
    """Add flags, not verdicts, to the rows.

    A seed shared by hand-ins, another bank version, a checksum that does not match, answers
    that could not be checked.
    """
    version = bank_version(bank)
    by_seed: dict = {}
    for r in rows:
        if r.handin.seed is not None:
            by_seed.setdefault(r.handin.seed, []).append(r)
    for r in rows:
        h = r.handin
        others = [o.handin.path.name for o in by_seed.get(h.seed, []) if o is not r]
        if others:
            r.flags.append(f"same seed as {', '.join(others)}")
        if h.bank != version:
            r.flags.append("made from another version of the question bank")
        if not h.checksum_ok:
            r.flags.append("checksum does not match (block edited after export?)")
        if h.seed is None:
            r.flags.append("no seed")
        for qid, why in r.unchecked.items():
            r.flags.append(f"{qid} not checked: {why}")


def grade_paths(paths, bank: Bank | None = None) -> Result:
    """Read and grade every hand-in among ``paths``; unreadable files are listed in ``skipped``."""
    files, skipped = collect(paths)
    handins = []
    for f in files:
        try:
            handins.append(read_handin(f))
        except CourseError as exc:
            skipped.append((f, str(exc)))
    if bank is None:
        chapters = sorted({h.chapter for h in handins}) or [2]
        if len(chapters) > 1:
            raise CourseError(f"The hand-ins are of several chapters ({', '.join(map(str, chapters))}): grade "
                              "each chapter's hand-ins on their own (one folder per chapter).")
        bank = load_bank(chapter=chapters[0])
    mine = [h for h in handins if h.chapter == bank.chapter]
    skipped += [(h.path, f"it is a hand-in of chapter {h.chapter}, the bank is chapter {bank.chapter}'s")
                for h in handins if h.chapter != bank.chapter]
    return Result(bank, grade_handins(mine, bank), skipped)


# -- writing ---------------------------------------------------------------------------------
def gradebook_columns(bank: Bank) -> list[str]:
    """Return the gradebook's columns: student, seed, score, out of, each graded question, file, flags."""
    return ["student", "seed", "score", "out_of", *graded_ids(bank), "file", "flags"]


def write_gradebook(result: Result, path: Path) -> Path:
    """Write the gradebook (CSV): one row per hand-in, 1 or 0 per question (empty: unanswered)."""
    ids = result.graded_ids
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(gradebook_columns(result.bank))
        for r in result.rows:
            h = r.handin
            w.writerow([h.student, "" if h.seed is None else h.seed, r.score, len(ids),
                        *("" if r.cells.get(q) is None else r.cells[q] for q in ids),
                        str(h.path), "; ".join(r.flags)])
    return path


def grade_command(paths, out, bank_file=None, stream=None) -> int:
    """Run the command: write DIR/gradebook.csv and DIR/report.html; say what was skipped and why.

    Exit 0 if every file was graded, 1 if any was skipped.
    """
    from .report import write_report

    stream = stream or sys.stdout
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise CourseError(f"--out {out} is a file; give a folder (it is created if needed) for gradebook.csv "
                          "and report.html.")
    bank = load_bank(bank_file) if bank_file else None
    result = grade_paths(paths, bank)
    try:
        out.mkdir(parents=True, exist_ok=True)
        book = write_gradebook(result, out / "gradebook.csv")
        report = write_report(result, out / "report.html")
    except OSError as exc:
        raise CourseError(f"The results cannot be written to {out} ({exc.strerror or exc}). Choose another "
                          "folder with --out.") from None
    flagged = sum(1 for r in result.rows if r.flags)
    print(f"{result.bank.form}: {len(result.rows)} hand-in(s) graded, {flagged} flagged; written to {book} "
          f"and {report}", file=stream)
    for path, why in result.skipped:
        print(f"skipped {path}: {why}", file=stream)
    if result.skipped:
        print(f"{len(result.skipped)} file(s) or folder(s) skipped (above): they are not in the gradebook.",
              file=stream)
    return 1 if result.skipped else 0
