"""The answers database: one SQLite file, checked when opened, written by appending versions.

Why SQLite (the stdlib's ``sqlite3``): a committed transaction is atomic and, with
``synchronous=FULL``, on disk; a killed kernel leaves the last committed state, never half a
write. WAL mode lets several kernels read while one writes; ``BEGIN IMMEDIATE`` takes the write
lock before reading the version numbers, so two kernels never give two saves the same version;
the busy timeout makes a kernel wait for the lock instead of failing.

The table ``answers`` has one row per saved version of (chapter, question), the highest version
the current answer. Nothing is deleted; the one update is a burst of typing: while a student
types, the version of the same burst is overwritten (in one transaction) instead of adding a full
copy per keystroke (:mod:`mlmcourse.quiz.store` decides what a burst is). The student's name is the question
``(student)`` (bank ids cannot look like that). Each row carries a CRC of its fields: SQLite
notices damage to its own structures (``PRAGMA quick_check``), the CRC notices a stray byte
inside an answer's text. A file that fails these checks is *set aside*: renamed with a
timestamp suffix (with its ``-wal``, which may hold the last saves), never deleted; the rows
that still read correctly are copied into a fresh file (:func:`salvage`). A second table,
``notices`` (made when first needed), keeps what the student must be told until they dismiss it.
"""
from __future__ import annotations

import json
import os
import sqlite3
import zlib
from datetime import UTC, datetime
from pathlib import Path

from ..userfiles import fsync_dir

APPLICATION_ID = 0x4D4C4D41  # "MLMA" in the file's header: this is a course answers database
SCHEMA_VERSION = 1
BUSY_TIMEOUT = 10.0  # seconds a save waits for another kernel's write lock (ours last milliseconds)
STUDENT = "(student)"
FIELDS = ("answer", "kind", "checked", "correct")
COLUMNS = ("id", "chapter", "question", "version", *FIELDS, "updated", "crc")

SCHEMA = """
CREATE TABLE answers (
    id       INTEGER PRIMARY KEY,  -- the order of saving
    chapter  INTEGER NOT NULL,
    question TEXT    NOT NULL,     -- the bank's question id, or '(student)' for the name
    version  INTEGER NOT NULL,     -- 1, 2, 3 ... per (chapter, question)
    answer,                        -- as typed: text, or a choice's index (no type affinity)
    kind     TEXT,
    checked  INTEGER NOT NULL,     -- 0/1: the student pressed Check
    correct  INTEGER,              -- 0/1 for automatic questions, NULL otherwise
    updated  TEXT    NOT NULL,     -- when it was typed (UTC, ISO 8601)
    crc      INTEGER NOT NULL,     -- CRC-32 of the fields above
    UNIQUE (chapter, question, version)
)"""


class Damaged(Exception):
    """The file is not a readable course answers database; the message says why."""


class Unusable(Exception):
    """The file is sound but this version of the course cannot use it (made by a newer one)."""


def now() -> str:
    """Return the current time (UTC) as the database stores it: ISO 8601, to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def is_damage(exc: BaseException) -> bool:
    """SQLite's own verdict that a file is damaged or not a database (not a lock, not a full disk)."""
    name = getattr(exc, "sqlite_errorname", "") if isinstance(exc, sqlite3.DatabaseError) else ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def _crc(chapter, question, version, answer, kind, checked, correct, updated) -> int:
    text = json.dumps([chapter, question, version, answer, kind, checked, correct, updated], ensure_ascii=False)
    return zlib.crc32(text.encode("utf-8"))


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if new) and check the database; raise :class:`Damaged` if it is not sound.

    A file that is not ours is only read, never changed, before it is set aside. An empty file
    (0 bytes: a first start interrupted before its first commit) holds nothing and is used as new.
    """
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    try:
        if _state(conn) == (0, 0, []):
            _create(conn)
        app, version, _tables = _state(conn)
        if app == APPLICATION_ID and version > SCHEMA_VERSION:
            raise Unusable("it was written by a newer version of mlmcourse")
        columns = tuple(r[1] for r in conn.execute("PRAGMA table_info(answers)"))
        if app != APPLICATION_ID or version != SCHEMA_VERSION or columns != COLUMNS:
            raise Damaged("it is not a course answers database (its tables are not the expected ones)")
        conn.execute("PRAGMA journal_mode=WAL")  # already so for our files; a no-op then
        conn.execute("PRAGMA synchronous=FULL")  # every commit reaches the disk
        _verify(conn)
    except BaseException as exc:
        conn.close()
        if is_damage(exc):
            raise Damaged(f"SQLite reports: {exc}") from None
        raise
    return conn


def _state(conn: sqlite3.Connection):
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return (conn.execute("PRAGMA application_id").fetchone()[0],
            conn.execute("PRAGMA user_version").fetchone()[0], tables)


def _create(conn: sqlite3.Connection) -> None:
    """Create the table of a new file (another kernel may be creating it at the same moment)."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _state(conn) == (0, 0, []):
            conn.execute(SCHEMA)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise


def _verify(conn: sqlite3.Connection) -> None:
    report = [r[0] for r in conn.execute("PRAGMA quick_check")]
    if report != ["ok"]:
        first = [line for r in report for line in r.splitlines() if not line.startswith("***")]
        raise Damaged(f"SQLite's check found damage: {(first or report)[0]}")
    for row in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM answers"):
        if _crc(*row[1:-1]) != row[-1]:
            raise Damaged(f"version {row[3]} of question {row[2]} (chapter {row[1]}) does not match its checksum")


def _entry(answer, kind, checked, correct, updated) -> dict:
    entry = {"answer": answer, "kind": kind, "checked": bool(checked),
             "correct": None if correct is None else bool(correct), "updated": updated}
    return {k: v for k, v in entry.items() if v is not None or k == "correct"}


def latest(conn: sqlite3.Connection, chapter: int) -> dict[str, dict]:
    """Return the current (highest) version of every question of ``chapter``: {question: entry}."""
    rows = conn.execute(
        "SELECT question, answer, kind, checked, correct, updated FROM answers AS a WHERE chapter = ? "
        "AND version = (SELECT MAX(version) FROM answers WHERE chapter = a.chapter AND question = a.question)",
        (int(chapter),))
    return {q: _entry(*rest) for q, *rest in rows}


def versions(conn: sqlite3.Connection, chapter: int, question: str) -> list[dict]:
    """Every saved version of one question, oldest first (for the curious, and for tests)."""
    rows = conn.execute("SELECT version, answer, kind, checked, correct, updated FROM answers "
                        "WHERE chapter = ? AND question = ? ORDER BY version", (int(chapter), question))
    return [{"version": v, **_entry(*rest)} for v, *rest in rows]


def _cell(value):
    """Return what SQLite can hold: text and numbers as they are, anything else as its text."""
    if value is None or isinstance(value, (str, int, float)):
        return int(value) if isinstance(value, bool) else value
    return str(value)


def storable(text: str) -> tuple[str, int]:
    """``text`` as it can be stored (UTF-8), and how many characters had to be replaced.

    A lone surrogate (half of a character, what a broken copy-paste leaves) cannot be encoded:
    it becomes U+FFFD. Two halves that make a whole character are joined into it.
    """
    try:
        text.encode("utf-8")
        return text, 0
    except UnicodeEncodeError:
        fixed = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        return fixed, fixed.count("\ufffd") - text.count("\ufffd")


def append(conn: sqlite3.Connection, rows) -> list[int]:
    """Save ``rows`` as new versions, in one transaction; return the id of each row written.

    Each row is (chapter, question, entry).

    An entry with ``"_replace": id`` (a version of the same burst of typing, see
    :mod:`mlmcourse.quiz.store`) overwrites that row instead, if it is still the question's latest
    version; otherwise (another kernel saved one since) it is added as a new version.
    """
    rows = list(rows)
    if not rows:
        return []
    ids = []
    conn.execute("BEGIN IMMEDIATE")  # the write lock first: version numbers are read under it
    try:
        for chapter, question, entry in rows:
            version = conn.execute("SELECT COALESCE(MAX(version), 0) FROM answers WHERE chapter = ? "
                                   "AND question = ?", (int(chapter), question)).fetchone()[0]
            replace = entry.get("_replace")
            if replace is not None and conn.execute(
                    "SELECT 1 FROM answers WHERE id = ? AND chapter = ? AND question = ? AND version = ?",
                    (replace, int(chapter), question, version)).fetchone() is None:
                replace = None
            version += replace is None
            correct = entry.get("correct")
            values = (int(chapter), str(question), version, _cell(entry.get("answer")), entry.get("kind"),
                      int(bool(entry.get("checked"))), None if correct is None else int(bool(correct)),
                      str(entry.get("updated") or now()))
            if replace is None:
                cursor = conn.execute(f"INSERT INTO answers ({', '.join(COLUMNS[1:])}) VALUES "
                                      "(?, ?, ?, ?, ?, ?, ?, ?, ?)", (*values, _crc(*values)))
                ids.append(cursor.lastrowid)
            else:  # one statement: a killed kernel leaves the old text or the new, never a mix
                conn.execute("UPDATE answers SET answer = ?, kind = ?, checked = ?, correct = ?, updated = ?, "
                             "crc = ? WHERE id = ?", (*values[3:], _crc(*values), replace))
                ids.append(replace)
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise
    return ids


NOTICES = """
CREATE TABLE IF NOT EXISTS notices (
    id        INTEGER PRIMARY KEY,
    text      TEXT NOT NULL,  -- what the student is told (the quiz shows it)
    problem   TEXT NOT NULL,  -- the short phrase a hand-in warns with
    added     TEXT NOT NULL,
    dismissed TEXT            -- when the student dismissed it; NULL: still shown
)"""


def add_notices(conn: sqlite3.Connection, notes) -> None:
    """Keep notices (text, problem) in the file, to show until the student dismisses them.

    The table is made when first needed. The notices are shown in every session, to every
    chapter.
    """
    notes = list(notes)
    if not notes:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(NOTICES)
        conn.executemany("INSERT INTO notices (text, problem, added) VALUES (?, ?, ?)",
                         [(str(t), str(p), now()) for t, p in notes])
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise


def open_notices(conn: sqlite3.Connection) -> list[tuple[int, str, str]]:
    """Return the notices not dismissed yet, oldest first: (id, text, problem)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notices'").fetchone() is None:
        return []
    return [tuple(r) for r in conn.execute("SELECT id, text, problem FROM notices WHERE dismissed IS NULL ORDER BY id")]


def dismiss_notices(conn: sqlite3.Connection, ids) -> None:
    """Mark the notices ``ids`` dismissed (now): they are no longer shown."""
    ids = [int(i) for i in ids]
    if ids:
        conn.execute(f"UPDATE notices SET dismissed = ? WHERE id IN ({', '.join('?' * len(ids))})", (now(), *ids))


def identity(path: Path):
    """Which file ``path`` is now (None if none): a different one means it was moved or replaced."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def set_aside(path: Path, label: str) -> Path:
    """Rename ``path`` (and its WAL) to ``<name>.<label>-<UTC time>``; return the new path."""
    path = Path(path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside, n = path.with_name(f"{path.name}.{label}-{stamp}"), 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.{label}-{stamp}-{n}")
    os.rename(path, aside)
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if wal.exists() and wal.stat().st_size > 0:  # committed saves not yet copied into the file
        os.rename(wal, f"{aside}-wal")
    for empty in (wal, shm):  # an empty WAL holds nothing; the -shm is only an index of the WAL
        if empty.exists():
            empty.unlink()
    fsync_dir(path.parent)
    return aside


def salvage(path: Path) -> list[tuple]:
    """Return the rows of a set-aside file that still read correctly (see :func:`salvage_counted`)."""
    return salvage_counted(path)[0]


def salvage_counted(path: Path) -> tuple[list[tuple], int]:
    """Return the rows of a set-aside file that still read correctly and match their CRC.

    In saving order: (chapter, question, entry); and how many rows could not be read (or failed
    their CRC).

    Rows are read by id ranges: a row SQLite cannot read (on a damaged page, or with a damaged
    overflow page of a long answer) is skipped on its own, and the reading goes on after it. Two
    readings are tried and the fuller one kept: the file with its WAL, and (for a truncated file,
    which SQLite refuses to read at all) an in-memory copy whose header claims only the pages that
    are there.
    """
    path = Path(path)
    sides = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
    before = [side.exists() for side in sides]
    best: tuple[list[tuple], int] = ([], 0)
    for conn in _readings(path):
        try:
            rows, lost = _read_rows(conn)
        finally:
            conn.close()
        best = (rows, lost) if len(rows) > len(best[0]) or not best[0] else best
    for side, existed in zip(sides, before):  # reading made them: an empty WAL and its index
        if not existed and side.exists() and (side.name.endswith("-shm") or side.stat().st_size == 0):
            side.unlink()
    return best


SALVAGE_PROBE = 100_000  # ids tried one by one past the last readable row when the highest id is unknown


def _read_rows(conn: sqlite3.Connection) -> tuple[list[tuple], int]:
    """Every readable row of ``answers``, by id; and the count of rows that exist but cannot be read."""
    select = f"SELECT {', '.join(COLUMNS)} FROM answers"
    try:
        top = conn.execute("SELECT MAX(id) FROM answers").fetchone()[0]
    except sqlite3.Error:
        top = None  # the last page is damaged: probe id by id past the last row read
    rows: list[tuple] = []
    lost, last = 0, 0

    def take(row) -> None:
        nonlocal lost
        if len(row) == len(COLUMNS) and _crc(*row[1:-1]) == row[-1]:
            _id, chapter, question, _version, *fields, updated, _crc_value = row
            rows.append((chapter, question, {**dict(zip(FIELDS, fields)), "updated": updated}))
        else:
            lost += 1

    while True:
        try:  # a range scan, until it reaches a row it cannot read
            for row in conn.execute(f"{select} WHERE id > ? ORDER BY id", (last,)):
                last = row[0]
                take(row)
            return rows, lost
        except sqlite3.Error:
            pass
        end = top if top is not None else last + SALVAGE_PROBE
        while last < end:  # id by id: unreadable (lost), absent, or read (then the scan resumes)
            last += 1
            try:
                row = conn.execute(f"{select} WHERE id = ?", (last,)).fetchone()
            except sqlite3.Error:
                lost += 1
                continue
            if row is not None:
                take(row)
                break
        else:
            return rows, lost


def _readings(path: Path) -> list[sqlite3.Connection]:
    readings = []
    try:
        readings.append(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1))
    except sqlite3.Error:
        pass
    try:
        data = bytearray(path.read_bytes())
    except OSError:
        return readings
    if len(data) < 100 or not data.startswith(b"SQLite format 3\0") or not hasattr(sqlite3.Connection, "deserialize"):
        return readings
    page = int.from_bytes(data[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512:
        return readings
    pages = len(data) // page
    data = data[:pages * page]
    data[18:20] = b"\x01\x01"  # rollback-journal format: the copy is read without a WAL
    data[28:32] = pages.to_bytes(4, "big")
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(bytes(data))
        readings.append(conn)
    except sqlite3.Error:
        conn.close()
    return readings


def read_json(path: Path) -> dict | None:
    """Return an answers file of the course's earlier JSON store, or None if missing or not valid."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict) or not all(
            isinstance(e, dict) for e in data["answers"].values()):
        return None
    return data
