"""Where a student's quiz answers live, and how they are saved without ever being lost.

One JSON file per chapter in a per-user folder (never inside the course folder, which may be a
read-only shared copy on a JupyterHub):

1. ``$MLMCOURSE_ANSWERS_DIR`` if it is set;
2. otherwise ``$XDG_DATA_HOME/mlmcourse/answers`` (``~/.local/share/mlmcourse/answers``);
   on Windows ``%APPDATA%\\mlmcourse\\answers``.

Every save writes a temporary file in the same folder, flushes and fsyncs it, keeps the previous
version as ``<file>.bak`` and only then swaps the new file in with ``os.replace`` (atomic on one
file system). A crash or a killed kernel at any moment leaves either the old or the new answers,
never a half-written file; if the main file is ever unreadable the backup is used.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path

from ..errors import CourseError

FORMAT_VERSION = 1


def answers_dir() -> Path:
    """The folder that holds this user's answers (see the module docstring)."""
    env = os.environ.get("MLMCOURSE_ANSWERS_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform.startswith("win") and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "mlmcourse" / "answers"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "mlmcourse" / "answers"


def answers_path(chapter: int) -> Path:
    return answers_dir() / f"chapter{int(chapter):02d}.json"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _empty(chapter: int) -> dict:
    return {"version": FORMAT_VERSION, "chapter": int(chapter), "student": "", "answers": {}}


def _read(path: Path) -> dict | None:
    """The parsed file, or None when it is missing or not a valid answers file."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        return None
    return data


def atomic_write_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` so that a crash at any point leaves the old or the new file.

    Steps: temp file in the same folder -> write -> flush -> fsync -> copy the current file to
    ``.bak`` (atomically too) -> ``os.replace(temp, path)`` -> fsync the folder."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CourseError(
            f"Your answers could not be saved: the folder {path.parent} cannot be created "
            f"({exc.strerror}). Set the environment variable MLMCOURSE_ANSWERS_DIR to a folder "
            "you can write to, then restart the kernel."
        ) from None
    text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True)

    def keep_backup():
        if path.exists() and _read(path) is not None:
            _replace_atomically(path.with_name(path.name + ".bak"), path.read_bytes())

    _replace_atomically(path, text.encode("utf-8"), before_replace=keep_backup)
    _fsync_dir(path.parent)


def _replace_atomically(path: Path, payload: bytes, before_replace=None) -> None:
    """temp file in the same folder -> write -> fsync -> (before_replace) -> os.replace."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AnswerStore:
    """The answers of one chapter for this user: load once, update in memory, save atomically.

    ``update(qid, **fields)`` records a change and schedules a save after ``delay`` seconds
    (debounced: typing fast gives one write, not one per key); ``flush()`` saves now. With
    ``delay=0`` every update is saved at once."""

    def __init__(self, chapter: int, path: Path | None = None, delay: float = 0.8):
        self.chapter = int(chapter)
        self.path = Path(path) if path is not None else answers_path(chapter)
        self.delay = float(delay)
        self.restored_from_backup = False
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None
        self._dirty = False
        self.last_error: str | None = None
        self.data = self._load()

    # -- reading ---------------------------------------------------------------------------
    def _load(self) -> dict:
        data = _read(self.path)
        if data is None:  # missing or damaged: the backup holds the previous good version
            data = _read(self.path.with_name(self.path.name + ".bak"))
            self.restored_from_backup = data is not None
        if data is None:
            return _empty(self.chapter)
        data.setdefault("student", "")
        data.setdefault("chapter", self.chapter)
        return data

    def get(self, qid: str) -> dict:
        with self._lock:
            return dict(self.data["answers"].get(qid, {}))

    @property
    def student(self) -> str:
        return str(self.data.get("student", ""))

    # -- writing ---------------------------------------------------------------------------
    def set_student(self, name: str) -> None:
        with self._lock:
            if self.data.get("student") == name:
                return
            self.data["student"] = name
        self._changed()

    def update(self, qid: str, **fields) -> None:
        with self._lock:
            entry = self.data["answers"].setdefault(qid, {})
            if all(entry.get(k) == v for k, v in fields.items()):
                return
            entry.update(fields)
            entry["updated"] = _now()
        self._changed()

    def _changed(self) -> None:
        with self._lock:
            self._dirty = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self.delay <= 0:
                self.flush()
                return
            self._timer = threading.Timer(self.delay, self._timed_flush)
            self._timer.daemon = True
            self._timer.start()

    def _timed_flush(self) -> None:
        try:
            self.flush()
        except CourseError as exc:  # a background save has no one to raise to: remember it
            self.last_error = str(exc)

    def flush(self) -> Path:
        """Save now (if anything changed); return the file's path."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._dirty:
                return self.path
            self.data["version"] = FORMAT_VERSION
            self.data["saved"] = _now()
            try:
                atomic_write_json(self.path, self.data)
            except OSError as exc:
                self.last_error = str(exc)
                raise CourseError(
                    f"Your answers could not be saved to {self.path} ({exc.strerror or exc}). "
                    "They are still in this notebook; set MLMCOURSE_ANSWERS_DIR to a folder you "
                    "can write to, restart the kernel and run the quiz cells again."
                ) from None
            self._dirty = False
            self.last_error = None
            return self.path
