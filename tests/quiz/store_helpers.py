"""Helpers shared by the answer-store tests.

What a second connection sees on disk, a filled database to damage, a byte flipped in it, a
function that raises.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from mlmcourse.quiz import answerdb
from mlmcourse.quiz.store import AnswerStore


def versions_on_disk(path: Path, question: str = "1-A", chapter: int = 2) -> list[dict]:
    """Read every saved version of one question by a separate connection (as another kernel)."""
    conn = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True)
    try:
        return answerdb.versions(conn, chapter, question)
    finally:
        conn.close()


def answers_on_disk(path: Path, question: str = "1-A") -> list:
    """Return the answers of every saved version of one question, oldest first."""
    return [v.get("answer") for v in versions_on_disk(path, question)]


def filled_database(path: Path) -> None:
    """Write a closed database with 120 versions of 1-A (over many pages) and one of 1-B."""
    from mlmcourse.quiz import store as store_module
    clock, real = iter(range(0, 10**6, 10)), store_module._clock
    store_module._clock = lambda: float(next(clock))   # a pause between versions: all are kept
    try:
        store = AnswerStore(2, path=path)
        for i in range(1, 121):
            store.update("1-A", answer=f"version {i:03d} " + "w" * 300, kind="open")
        store.update("1-B", answer="the other answer", kind="open")
        store.set_student("Ada")
        store.close()
    finally:
        store_module._clock = real


def flipping(offset):
    """Return a damage that flips one byte of a file, at ``offset(data)``."""
    def damage(path: Path) -> None:
        data = bytearray(path.read_bytes())
        at = offset(data)
        data[at] ^= 0x5A
        path.write_bytes(bytes(data))
    return damage


def raising(exc):
    """Return a function that raises ``exc`` whatever it is called with."""
    def fail(*args, **kwargs):
        raise exc
    return fail
