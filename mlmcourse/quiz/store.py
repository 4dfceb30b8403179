"""Where a student's quiz answers live, and how they are kept so that none is ever lost.

One SQLite database for every chapter, ``answers.sqlite3``, in a per-user folder (never the
course folder, which may be a read-only share on a JupyterHub): ``$MLMCOURSE_ANSWERS_DIR`` if
set, else the user data folder (``~/.local/share/mlmcourse/answers`` on Linux; see
:mod:`mlmcourse.userfiles`). The SQLite side is :mod:`mlmcourse.quiz.answerdb`.

- Every change is written at once, as one small transaction (about a millisecond): an answer
  is on disk before the next keystroke arrives, so a killed kernel loses nothing typed.
- Every saved version is kept, one row per (chapter, question, version); the latest is what the
  quiz shows and what the hand-in file holds. Two kernels on one chapter both keep theirs.
- Every saved version is kept, except inside a *burst* of typing: a version followed within
  ``BURST_GAP`` seconds by the next change of the same question (same kind, nothing checked
  between) is replaced by it, in one transaction, *only if nothing of its text is lost*: the new
  text holds it whole (characters were added in one place), or a kept version holds it whole
  (it is what Backspace left of a kept text). Anything else (a deletion of typed text, a paste
  over a selection) keeps the version as it was and starts a new one. A burst ends after
  ``BURST_MAX`` seconds. So a 1 MB answer typed (or backspaced) key by key keeps one copy per
  pause, not one per keystroke; a version that stood for a few seconds is always kept; and every
  text the answer ever had is in a kept version (its characters, in their order). Only this
  kernel's own latest version is ever replaced, never another kernel's.
- Any text is saved: characters that cannot be encoded (a lone surrogate from a broken
  copy-paste) are replaced by U+FFFD, and ``replaced`` says so per question.
- A save that fails (read-only folder, full disk, anything unforeseen) loses nothing and stops
  nothing else: the answer stays in the notebook, the other questions are saved on their own,
  ``last_error`` says what to do, and the save is tried again with the next change, in the
  folder ``MLMCOURSE_ANSWERS_DIR`` names by then if the student sets it in the kernel.
- A folder that can be read but not written (``read_only``): the answers and the seed saved
  there are shown, and what is typed is kept in memory until the variable points elsewhere.
- A damaged database, and the files of the course's earlier JSON store (``chapterNN.json`` and
  its ``.bak``), are set aside (renamed with a timestamp, never deleted); what they still hold is
  moved into the database, and ``notices`` tells the student what happened and where the copy is.
  A damaged database's notice (and the hand-in's warning, ``problems()``) is kept in the new file
  (:func:`mlmcourse.quiz.answerdb.add_notices`) and shown in every session, to every chapter, until
  the student dismisses it (:meth:`AnswerStore.dismiss_notices`, the quiz's "I have checked my
  answers" button).
- The student's *seed* (the number their own quiz data is made from, see
  :mod:`mlmcourse.quiz.live`) is kept like the name: the reserved question ``(seed)``, created
  once per chapter by :meth:`AnswerStore.ensure_seed`. Its *first* saved version is the seed, so
  two kernels that create one at the same moment both end up with the one saved first.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import sqlite3
import threading
import time
import weakref
from datetime import UTC, datetime
from pathlib import Path

from ..errors import CourseError
from ..userfiles import answers_dir
from . import answerdb as db
from .answerdb import STUDENT

SEED = "(seed)"    # the reserved question holding the student's seed (bank ids cannot look like it)
SEED_RANGE = (10000, 99999)
FILENAME = "answers.sqlite3"
MAX_DELAY = 0.2  # seconds: the longest a change may wait to be written (AnswerStore's delay)
FAILURES = (sqlite3.Error, OSError, db.Unusable, db.Damaged)
BURST_GAP = 3.0      # seconds: a change within this of the last one of a question continues its burst
BURST_MAX = 30.0     # seconds: a burst that long ends anyway (a version is kept at least this often)
_clock = time.monotonic

__all__ = ["AnswerStore", "answers_dir", "answers_path", "old_json_paths"]


def answers_path(chapter: int | None = None) -> Path:
    """Return the path of the answers database.

    Every chapter shares it; ``chapter`` is accepted for older callers.
    """
    return answers_dir() / FILENAME


def old_json_paths(folder: Path, chapter: int) -> tuple[Path, Path]:
    """Return the file of the course's earlier JSON store for ``chapter``, and its backup copy."""
    main = Path(folder) / f"chapter{int(chapter):02d}.json"
    return main, main.with_name(main.name + ".bak")


def _when(stamp) -> datetime:
    try:
        t = datetime.fromisoformat(str(stamp))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _close(box: dict) -> None:
    conn, box["conn"] = box.get("conn"), None
    if conn is not None:
        try:
            conn.close()  # the last connection to close folds the WAL into the file and removes it
        except sqlite3.Error:
            pass


class AnswerStore:
    """The answers of one chapter for this user, saved as they change.

    ``get(qid)`` and ``student`` are what this kernel shows; ``data`` adds the latest versions
    other kernels saved, for the hand-in. ``update(qid, **fields)`` never raises for a failed
    save: the change is kept, ``last_error`` says why, and the save is retried with the next
    change; ``flush()`` retries at once and raises a CourseError if it fails again. ``delay``
    (seconds, at most 0.2; default 0, at once) lets a burst of changes share one transaction.
    """

    def __init__(self, chapter: int, path: Path | None = None, delay: float = 0.0):
        self.chapter = int(chapter)
        self._fixed_path = path is not None
        self.path = Path(path) if path is not None else answers_path(chapter)
        self.delay = min(max(float(delay), 0.0), MAX_DELAY)
        self.notices: list[str] = []        # what the student should be told (the quiz shows them)
        self.damaged: list[Path] = []       # damaged files set aside by this store
        self.last_error: str | None = None  # why the latest save failed; None once saved
        self._listeners: list = []          # weak references: called after every save attempt
        self._lock = threading.RLock()
        self._db = {"conn": None, "identity": None}
        weakref.finalize(self, _close, self._db)
        self._entries: dict[str, dict] = {}  # question -> its latest entry, as this kernel knows it
        self._pending: dict[str, dict] = {}  # changed here, not yet in the database
        self._carry: list[tuple] = []        # rows recovered from a damaged file, still to be written
        self._reason = ""
        self._seed: int | None = None         # the seed, once read from the database
        self._timer: threading.Timer | None = None
        self._bursts: dict[str, dict] = {}     # question -> this kernel's latest row and its burst
        self._row_errors: dict[str, str] = {}  # question -> why its latest change alone failed
        self.replaced: dict[str, str] = {}     # question -> what was replaced to save its text
        self.read_only = False                 # the saved answers could be read, not written
        self._damage_problems: list[str] = []  # what a hand-in says of a damaged database, until dismissed
        self._notes_to_write: list[tuple] = []  # (notice, problem) to keep in the file
        self._notice_ids: list[int] = []       # the file's notices shown here (dismiss_notices ends them)
        with self._lock:
            try:
                self._connection()
            except FAILURES as exc:
                if _read_only_failure(exc, self.path):
                    self._show_read_only()
                self._fail(exc)

    # -- reading ---------------------------------------------------------------------------
    def get(self, qid: str) -> dict:
        """Return the entry of one question (answer, kind, checked, correct, updated), or {}."""
        with self._lock:
            return dict(self._entries.get(qid, {}))

    @property
    def student(self) -> str:
        """Return the student's name as typed in the quiz (empty until they type it)."""
        return str(self.get(STUDENT).get("answer") or "")

    @property
    def seed(self) -> int | None:
        """The student's seed for this chapter (None until :meth:`ensure_seed` made one).

        The first saved version of ``(seed)``, or while nothing could be saved, this
        kernel's.
        """
        with self._lock:
            if self._seed is not None:
                return self._seed
            conn = self._db["conn"]
            if conn is not None:
                try:
                    for version in db.versions(conn, self.chapter, SEED):
                        value = _seed_value(version.get("answer"))
                        if value is not None:
                            self._seed = value
                            if SEED not in self._pending:  # show the one saved first, not a later one
                                self._entries[SEED] = {**self._entries.get(SEED, {}), "answer": value}
                            return value
                except FAILURES:
                    pass
            return _seed_value(self._entries.get(SEED, {}).get("answer"))

    def ensure_seed(self) -> int:
        """Return the student's seed, created (a random number from 10000 to 99999) and saved if there is none yet.

        If another kernel saved one first, that one is returned (and kept).
        """
        with self._lock:
            seed = self.seed
            if seed is not None:
                return seed
            self.update(SEED, answer=SEED_RANGE[0] + secrets.randbelow(SEED_RANGE[1] - SEED_RANGE[0] + 1),
                        kind="seed")
            self._save()  # at once, even with a delay: the seed must not change under the student
            return self.seed

    @property
    def data(self) -> dict:
        """The answers as a dict: the latest saved versions, and this kernel's unsaved changes.

        {"chapter", "student", "seed", "answers": {qid: entry}} (the name and the seed
        apart).
        """
        with self._lock:
            entries = {q: dict(e) for q, e in self._entries.items()}
            try:
                if self._db["conn"] is not None:
                    saved = db.latest(self._db["conn"], self.chapter)
                    entries.update({q: e for q, e in saved.items() if q not in self._pending})
            except FAILURES:
                pass
        entries.pop(SEED, None)
        return {"chapter": self.chapter, "student": str(entries.pop(STUDENT, {}).get("answer") or ""),
                "seed": self.seed, "answers": entries}

    @property
    def unsaved(self) -> set[str]:
        """The questions whose latest change is only in memory (a save failed, or ``delay`` runs)."""
        with self._lock:
            return set(self._pending)

    def problems(self) -> list[str]:
        """Return what a hand-in from this store should warn about, in short phrases (empty: nothing)."""
        out = list(self._damage_problems)
        out += [f"a damaged answers file was set aside as {p}" for p in self.damaged
                if not any(str(p) in d for d in out)]
        if self.read_only:
            since = f", and {len(self.unsaved)} change(s) made since are not saved" if self.unsaved else ""
            out.append(f"the answers folder {self.path.parent} is read-only: the answers shown are those saved "
                       f"there{since}")
        elif self.last_error and self.unsaved:
            out.append(f"{len(self.unsaved)} change(s) could not be saved ({self._reason})")
        elif self.last_error and self._db["conn"] is None:
            out.append(f"the saved answers could not be read ({self._reason})")
        if not any(str(e.get("answer") or "").strip() for e in self.data["answers"].values()):
            copies = self.earlier_copies()
            if copies:
                out.append(f"no answers are saved, but an earlier copy exists: {copies[-1]}")
        return out

    @property
    def has_damage(self) -> bool:
        """Whether a damaged file was set aside (in this session, or one whose notice is still shown)."""
        return bool(self.damaged or self._damage_problems)

    def dismiss_notices(self) -> None:
        """Stop showing the notices: the student has read them and checked their answers.

        Here and in later sessions, and stop warning of them in the hand-in. Raises a
        CourseError if the file cannot be written (the notices stay).
        """
        with self._lock:
            try:
                conn = self._connection()
                db.dismiss_notices(conn, self._notice_ids)
            except FAILURES as exc:
                raise CourseError(f"The notices could not be dismissed ({getattr(exc, 'strerror', None) or exc}); "
                                  "they are shown again next time.") from None
            self._notice_ids, self._notes_to_write = [], []
            self.notices.clear()
            self.damaged.clear()
            self._damage_problems.clear()
        for ref in list(self._listeners):
            listener = ref()
            if listener is not None:
                listener()

    def earlier_copies(self) -> list[Path]:
        """Files set aside in the answers folder (damaged or migrated), oldest first."""
        mine = (self.path.name + ".", old_json_paths(self.path.parent, self.chapter)[0].name + ".")
        try:
            copies = [p for p in self.path.parent.iterdir() if p.name.startswith(mine)
                      and (".damaged-" in p.name or ".migrated-" in p.name) and not p.name.endswith("-wal")]
        except OSError:
            return []
        return sorted(copies, key=lambda p: re.findall(r"\d{8}T\d{6}Z", p.name)[-1:])

    # -- writing ---------------------------------------------------------------------------
    def set_student(self, name: str) -> None:
        """Record the student's name (a change is saved as any answer is)."""
        if name != self.student:
            self.update(STUDENT, answer=name, kind="name")

    def update(self, qid: str, **fields) -> None:
        """Record a change of one question's answer, kind, checked or correct, and save it."""
        unknown = set(fields) - set(db.FIELDS)
        if unknown:
            raise TypeError(f"unknown answer field(s): {', '.join(sorted(unknown))}")
        count = 0
        for key in ("answer", "kind"):
            if isinstance(fields.get(key), str):
                fields[key], n = db.storable(fields[key])
                count += n
        with self._lock:
            if count:
                self.replaced[qid] = (f"{count} character(s) of this answer could not be stored (half of a "
                                      "character, as a broken copy-paste leaves): they are saved as \ufffd. "
                                      "Retype them if they matter.")
            else:
                self.replaced.pop(qid, None)
            entry = self._entries.get(qid, {})
            if all(entry.get(k) == v for k, v in fields.items()):
                return
            self._entries[qid] = self._pending[qid] = {**entry, **fields, "updated": db.now()}
            if self.delay > 0 and self._timer is None:
                self._timer = threading.Timer(self.delay, self._save)
                self._timer.daemon = True
                self._timer.start()
        if self.delay <= 0:
            self._save()

    def flush(self) -> Path:
        """Write what is not saved yet (nothing to do is fine); raise a CourseError if that fails.

        Ends every burst of typing: what was flushed (a checked answer) stays a version of its own.
        """
        ok = self._save()
        with self._lock:
            self._bursts.clear()
        if not ok:
            raise CourseError(self.last_error)
        return self.path

    def close(self) -> None:
        """Save what is pending (quietly) and close the database."""
        self._save()
        with self._lock:
            _close(self._db)

    def _save(self) -> bool:
        """Write what is pending; never raises (a failure is kept, told in ``last_error``, retried)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._pending:
                return True
            self._write_pending()
            ok = not self._pending
        self._notify_listeners()
        return ok

    def _write_pending(self) -> None:
        """Write the pending changes (holding the lock); a failure is kept in ``last_error``.

        A file damaged while open is set aside, then written anew: a second attempt.
        """
        for attempt in (1, 2):
            try:
                conn = self._connection()  # (re)opening may add to what is pending
                self._write(conn)
            except FAILURES as exc:
                _close(self._db)
                if attempt == 1 and db.is_damage(exc):
                    continue
                self._fail(exc)
            except Exception as exc:  # unforeseen: told, kept, retried; never raised into a widget
                self._fail(exc)
            else:
                self.read_only = False
                if self._row_errors:
                    self._fail(RowsFailed(self._row_errors))
                else:
                    self.last_error = None
            break

    def _notify_listeners(self) -> None:
        """Call the listeners still alive (weak references): after every save attempt."""
        alive = [ref for ref in self._listeners if ref() is not None]
        self._listeners[:] = alive
        for ref in alive:
            listener = ref()
            if listener is not None:
                listener()

    def _write(self, conn: sqlite3.Connection) -> None:
        """Write the pending changes in one transaction, or else each question on its own.

        If the transaction fails for a reason of the rows themselves (not the file), each
        question is written on its own, so that one answer that cannot be saved never stops
        the others (``_row_errors`` keeps why).
        """
        now = _clock()
        rows = {q: self._row(q, e, now) for q, e in self._pending.items()}
        self._row_errors = {}
        ids: dict[str, int] = {}
        try:
            try:
                ids = dict(zip(rows, db.append(conn, [(self.chapter, q, e) for q, e in rows.items()])))
            except FAILURES:
                raise
            except Exception:
                for q, e in rows.items():
                    try:
                        ids.update(zip([q], db.append(conn, [(self.chapter, q, e)])))
                    except FAILURES:
                        raise
                    except Exception as exc:
                        self._row_errors[q] = f"{type(exc).__name__}: {exc}"
        finally:  # what was written is no longer pending, even if a later row's file failed
            for q, row_id in ids.items():
                self._remember_burst(q, rows[q], row_id, now)
                del self._pending[q]

    def _row(self, qid: str, entry: dict, now: float) -> dict:
        """Return the entry to write for ``qid``.

        Marked to replace this kernel's last version of ``qid`` if this change continues its
        burst of typing (see the module's docstring).
        """
        burst = self._bursts.get(qid)
        if burst is None or qid == SEED or now - burst["last"] >= BURST_GAP or now - burst["start"] >= BURST_MAX:
            return entry
        before = burst["entry"]
        if any(before.get(k) != entry.get(k) for k in ("kind", "checked", "correct")):
            return entry
        old, new, kept = before.get("answer"), entry.get("answer"), burst["kept"]
        if not (isinstance(old, str) and isinstance(new, str)):
            return entry
        if not (_within(old, new) or (isinstance(kept, str) and _within(old, kept))):
            return entry  # replacing would lose text: the version stays, a new one starts
        return {**entry, "_replace": burst["id"]}

    def _remember_burst(self, qid: str, row: dict, row_id: int, now: float) -> None:
        burst = self._bursts.get(qid)
        if burst is not None and row.get("_replace") == row_id:
            burst.update(last=now, entry=row)
        else:  # a new row: the one before it (this kernel's, if any) stays as it is, a kept version
            self._bursts[qid] = {"id": row_id, "start": now, "last": now, "entry": row,
                                 "kept": None if burst is None else burst["entry"].get("answer")}

    def subscribe(self, callback) -> None:
        """Call ``callback()`` after every save attempt (the quiz shows the result).

        Bound methods are held weakly: a quiz that is gone is not kept alive, nor called, by its
        store.
        """
        self._listeners.append(weakref.WeakMethod(callback) if hasattr(callback, "__self__")
                               else (lambda cb=callback: cb))

    # -- opening ---------------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        """Return the open database, (re)opened when needed.

        At first, after a failure, after the file was moved or replaced (another kernel set
        it aside), after MLMCOURSE_ANSWERS_DIR changed.
        """
        if self.last_error is not None and not self._fixed_path and answers_path() != self.path:
            _close(self._db)
            self.path = answers_path()
            self._pending = dict(self._entries)  # everything this kernel knows goes to the new place
        if self._db["conn"] is not None and db.identity(self.path) != self._db["identity"]:
            _close(self._db)  # a new file: what it lacks of this kernel's answers is written to it
            self._pending = dict(self._entries)
        if self._db["conn"] is None:
            self._bursts.clear()  # row ids belong to the file they were written to
            self._open()
        return self._db["conn"]

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        before = db.identity(self.path)
        try:
            conn = db.connect(self.path)
        except db.Damaged as exc:
            conn = self._replace_damaged(exc, before)
        try:
            db.append(conn, self._carry)
            self._carry = []
            db.add_notices(conn, self._notes_to_write)
            self._notes_to_write = []
            self._migrate_json(conn)
            saved = db.latest(conn, self.chapter)
            kept = db.open_notices(conn)
        except BaseException:
            conn.close()
            raise
        self._db.update(conn=conn, identity=db.identity(self.path))
        self._notice_ids = [i for i, _text, _problem in kept]
        for _i, text, problem in kept:  # a damaged file's notice, from this session or an earlier one
            if text not in self.notices:
                self.notices.append(text)
            if problem not in self._damage_problems:
                self._damage_problems.append(problem)
        for q, e in saved.items():
            if q not in self._pending:
                self._entries[q] = e
            elif _same(e, self._pending[q]):  # already there (e.g. another kernel's copy of it)
                del self._pending[q]

    def _replace_damaged(self, exc: db.Damaged, before) -> sqlite3.Connection:
        if db.identity(self.path) != before:  # another kernel has just set it aside
            return db.connect(self.path)
        aside = db.set_aside(self.path, "damaged")
        self.damaged.append(aside)
        self._carry, lost = db.salvage_counted(aside)
        if self._entries:  # damaged while this kernel was running: write all it knows
            self._pending = dict(self._entries)
        kept = (f"the {len(self._carry)} saved versions that still read correctly were copied into a "
                "new file" if self._carry else "nothing in it could be read")
        unread = f"{lost} saved version{'s' if lost != 1 else ''} could not be read"
        if self._carry and lost:
            kept += f" ({unread})"
        notice = (f"Your answers database `{self.path}` was damaged ({exc}). It was set aside as `{aside}` "
                  f"(nothing was deleted) and {kept}. Check your answers below and retype what is missing; "
                  "keep the copy for your instructor. This note is shown until you dismiss it.")
        problem = f"a damaged answers file was set aside as {aside}" + (
            f" ({unread})" if lost else "" if self._carry else " (nothing in it could be read)")
        self.notices.append(notice)
        self._damage_problems.append(problem)
        self._notes_to_write.append((notice, problem))
        return db.connect(self.path)

    def _migrate_json(self, conn: sqlite3.Connection) -> None:
        """Move the answers of the earlier JSON store in (once), then set its files aside."""
        main, bak = old_json_paths(self.path.parent, self.chapter)
        present = [p for p in (main, bak) if p.exists()]
        readable = {p: db.read_json(p) for p in present}
        source = next((p for p in present if readable[p] is not None), None)
        if source is not None:
            saved = db.latest(conn, self.chapter)
            db.append(conn, [(self.chapter, q, e) for q, e in _old_entries(readable[source]).items()
                             if q not in saved or _when(saved[q].get("updated")) < _when(e["updated"])])
        kept = {}
        for p in present:
            try:
                kept[p] = db.set_aside(p, "damaged" if readable[p] is None else "migrated")
            except FileNotFoundError:  # another kernel opening at the same moment moved it in
                return
        lost = [p for p in present if readable[p] is None and (source is None or p == main)]
        self.damaged += [kept[p] for p in lost]
        copies = " and ".join(f"`{kept[p]}`" for p in present)
        if source == main:
            self.notices.append(f"Your answers from the course's earlier answers file `{main}` were "
                                f"moved into `{self.path}`; the old file was kept as {copies}.")
        elif source == bak:
            why = "was damaged" if main in present else "was missing"
            self.notices.append(f"The course's earlier answers file `{main}` {why}; its backup copy, one "
                                f"save older (your last change before it may be missing), was moved into "
                                f"`{self.path}` instead. Nothing was deleted: {copies}.")
        elif present:
            self.notices.append(f"The course's earlier answers file `{main}` was damaged and could not be "
                                f"read. It was kept as {copies} (nothing was deleted); retype your answers "
                                "and keep the copy for your instructor.")

    def _show_read_only(self) -> None:
        """Show what the file holds when opening it for writing failed; mark the store ``read_only``.

        Answers, name, seed, if it can be read at all.
        """
        try:
            rows = db.salvage(self.path) if self.path.is_file() else []
        except (OSError, sqlite3.Error):
            rows = []
        rows = [(q, e) for chapter, q, e in rows if chapter == self.chapter]
        if not rows:
            return
        self.read_only = True
        for q, e in rows:  # in saving order: the last of each question is its latest version
            self._entries[q] = {k: v for k, v in e.items() if v is not None or k == "correct"}
        self._seed = next((v for q, e in rows if q == SEED for v in [_seed_value(e.get("answer"))]
                           if v is not None), None)
        if self._seed is not None:
            self._entries[SEED] = {**self._entries.get(SEED, {}), "answer": self._seed}

    def _fail(self, exc: BaseException) -> None:
        self._reason = getattr(exc, "strerror", None) or str(exc)
        where = f"`{self.path}`"
        if self.read_only:
            self.last_error = (
                f"Your answers folder `{self.path.parent}` is read-only: your saved answers and your seed are "
                "shown, but nothing new can be saved there. What you type is kept in this notebook. Point "
                "MLMCOURSE_ANSWERS_DIR at a folder you can write to (in a cell: `%env "
                "MLMCOURSE_ANSWERS_DIR=~/mlm-answers`): everything shown here, your seed included, is saved "
                f"there with your next change (or copy `{self.path.name}` there before you start the quiz).")
        elif isinstance(exc, RowsFailed):
            self.last_error = (f"Your answer to {exc.questions} could not be saved ({exc}). It is kept in this "
                               "notebook and tried again with your next change; your other answers are saved. "
                               "Export your answers now, and tell your instructor if this persists.")
        elif not self._pending:  # opening failed: nothing typed yet
            self.last_error = (f"Your saved answers could not be opened at {where} ({self._reason}). What "
                               "you type now is kept in this notebook: set MLMCOURSE_ANSWERS_DIR to a folder "
                               "you can write to (in a cell: `%env MLMCOURSE_ANSWERS_DIR=~/mlm-answers`) and "
                               "your answers are saved there with your next change.")
        elif "locked" in self._reason:
            self.last_error = (f"Your latest change could not be saved: another kernel held the answers "
                               f"database {where} for {db.BUSY_TIMEOUT:.0f} s. It is kept in this notebook "
                               "and saved with your next change.")
        else:
            self.last_error = (f"Your latest change could not be saved to {where} ({self._reason}). It is "
                               "kept in this notebook for now: set MLMCOURSE_ANSWERS_DIR to a folder you can "
                               "write to (in a cell: `%env MLMCOURSE_ANSWERS_DIR=~/mlm-answers`) and your "
                               "answers are saved there with your next change.")


def _read_only_failure(exc: BaseException, path: Path) -> bool:
    """Whether opening failed because the folder or file may be read but not written."""
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return True
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    return (name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM"))
            or any(w in text for w in ("readonly", "read-only", "unable to open database file", "permission denied"))
            or not os.access(path.parent, os.W_OK))


class RowsFailed(Exception):
    """Some questions' changes could not be written though the file could (their text, a bug)."""

    def __init__(self, errors: dict[str, str]):
        self.questions = ", ".join(errors)
        super().__init__("; ".join(dict.fromkeys(errors.values())))


def _within(small: str, big: str) -> bool:
    """Return whether ``small`` is ``big`` with at most one run of characters removed.

    So ``big`` holds all of it, in order. Fast on a 1 MB answer: slices are compared, not
    characters.
    """
    if len(small) > len(big):
        return False
    if big.startswith(small):
        return True
    lo, hi = 0, len(small)  # the longest common prefix, by halving
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if big[:mid] == small[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return big.endswith(small[lo:])


def _seed_value(answer) -> int | None:
    """Return a saved seed as an int (None if it is not a whole number in SEED_RANGE, e.g. edited by hand)."""
    text = str(answer if answer is not None else "").strip()
    return int(text) if text.isdigit() and SEED_RANGE[0] <= int(text) <= SEED_RANGE[1] else None


def _same(a: dict, b: dict) -> bool:
    return [a.get("answer"), a.get("kind"), bool(a.get("checked")), a.get("correct")] == [
        b.get("answer"), b.get("kind"), bool(b.get("checked")), b.get("correct")]


def _old_entries(data: dict) -> dict[str, dict]:
    """Return the earlier store's {qid: entry} (and the name), with only the fields the database keeps."""
    out = {str(q): {**{k: e[k] for k in db.FIELDS if k in e}, "updated": str(e.get("updated") or db.now())}
           for q, e in data["answers"].items()}
    if str(data.get("student") or "").strip():
        out[STUDENT] = {"answer": str(data["student"]), "kind": "name", "updated": str(data.get("saved") or db.now())}
    return out
