"""Where the course writes at run time, and how: per-user folders, atomic file replace.

The course folder may be a read-only copy (a JupyterHub share), so nothing is written inside
it. Every folder comes from platformdirs (the per-user data and cache folders of each
operating system), and an environment variable overrides each one:

    answers   MLMCOURSE_ANSWERS_DIR   user data folder / answers   (what a student typed)
    cache     MLMCOURSE_CACHE_DIR     user cache folder            (downloaded data, slide libraries)
    workspace MLMCOURSE_WORKSPACE     documents folder / mlmcourse (notebooks of an installed course)

On Linux these are ``$XDG_DATA_HOME/mlmcourse`` (``~/.local/share/mlmcourse``) and
``$XDG_CACHE_HOME/mlmcourse`` (``~/.cache/mlmcourse``).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs

APP = "mlmcourse"
# set by `make execute` (mlmcourse.tools.execute), whose run writes the outputs committed for the
# web: its answers folder is a throw-away one, so what it shows of a student (a seed) is not anyone's
PAGE_BUILD_ENV = "MLMCOURSE_PAGE_BUILD"


def building_page() -> bool:
    """Return True in the run that writes the committed notebook outputs (``make execute``)."""
    return os.environ.get(PAGE_BUILD_ENV) == "1"


def _override(var: str) -> Path | None:
    value = os.environ.get(var, "").strip()
    return Path(value).expanduser() if value else None


def answers_dir() -> Path:
    """Return the folder that holds this user's quiz answers."""
    return _override("MLMCOURSE_ANSWERS_DIR") or Path(platformdirs.user_data_dir(APP, appauthor=False)) / "answers"


def workspace_dir() -> Path:
    """Where ``mlmcourse lab`` puts the notebooks when the course is installed, not checked out."""
    return _override("MLMCOURSE_WORKSPACE") or Path(platformdirs.user_documents_dir()) / APP


def cache_dir(*parts: str) -> Path:
    """Return this user's cache folder for the course (or a sub-folder of it); may be deleted any time."""
    base = _override("MLMCOURSE_CACHE_DIR") or Path(platformdirs.user_cache_dir(APP, appauthor=False))
    return base.joinpath(*parts)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Replace ``path`` by ``payload`` so that a crash leaves the old file or the new one, never a part.

    Temp file in the same folder -> write -> fsync -> ``os.replace`` -> fsync the folder. The
    temp file is removed if anything fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` (UTF-8), atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op elsewhere)."""
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
