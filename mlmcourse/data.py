"""Find, verify and load the course data (the classroom study)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd

from . import userfiles
from .errors import CourseError

CLASSROOM_FILE = "classroom.csv"
CLASSROOM_SHA256 = "90a161b6fb14dd619213ab247aeddcfc9baae97480f26d84107333007f488df3"
CLASSROOM_URL = (
    "https://raw.githubusercontent.com/frankcj6/Multi-Level-Nested-Model-Project/"
    "aed61a4d06c35426fec2ae1e822f0b13f45d8045/data/classroom.csv"
)
# column -> kind: "int" (whole numbers, no missing), "float" (may be missing)
CLASSROOM_COLUMNS = {
    "sex": "int", "minority": "int", "mathkind": "int", "mathgain": "int",
    "ses": "float", "yearstea": "float", "mathknow": "float", "housepov": "float",
    "mathprep": "float", "classid": "int", "schoolid": "int", "childid": "int",
}
# the columns the chapter's models (and the explorations) use
MODEL_COLUMNS = ("mathkind", "mathgain", "ses", "mathknow", "schoolid", "classid")
CLASSROOM_SHAPE = {"rows": 1190, "schoolid": 107, "classid": 312}

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Return where a downloaded copy is kept: ``$MLMCOURSE_DATA_DIR``, else the per-user cache folder.

    Never the course folder, which may be read-only.
    """
    env = os.environ.get("MLMCOURSE_DATA_DIR")
    return Path(env).expanduser() if env else userfiles.cache_dir("data")


def candidate_paths() -> list[Path]:
    """Return where the loader looks, in order.

    The download cache, then the course's shared data folder beside the checkout (read only).
    """
    return [cache_dir() / CLASSROOM_FILE, PROJECT_ROOT.parent / "shared" / "data" / CLASSROOM_FILE]


def sha256_of(path: Path) -> str:
    """Return the SHA-256 of the file at ``path`` (read in blocks), as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def verify_checksum(path: Path, expected: str = CLASSROOM_SHA256) -> None:
    """Check the file's SHA-256 against the course's; else say it is damaged or another version, and what to do."""
    got = sha256_of(path)
    if got != expected:
        raise CourseError(
            f"The data file {path} is not the course's classroom data: its SHA-256 is {got[:12]}..., "
            f"the course expects {expected[:12]}.... It may be damaged or a different version. "
            f"Delete it and run `python -m mlmcourse data` again to fetch a fresh copy."
        )


def _download(dest: Path) -> Path:
    try:
        import pooch
    except ImportError as exc:  # pragma: no cover - pooch is a dependency
        raise CourseError("Downloading the data needs the 'pooch' package: run `make setup`.") from exc
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        pooch.retrieve(CLASSROOM_URL, known_hash=f"sha256:{CLASSROOM_SHA256}",
                       fname=dest.name, path=dest.parent, progressbar=False)
    except Exception as exc:
        raise CourseError(
            "The classroom data is not on this computer and could not be downloaded "
            f"({type(exc).__name__}). Connect to the internet and run `python -m mlmcourse data`, "
            f"or copy classroom.csv into {dest.parent} (the course checks its SHA-256)."
        ) from None
    return dest


def find_classroom(download: bool = True) -> Path:
    """Return the path of a verified classroom.csv, downloading it if allowed and needed."""
    for path in candidate_paths():
        if path.is_file():
            verify_checksum(path)
            return path
    if not download:
        raise CourseError(
            "The classroom data was not found (looked in: "
            + ", ".join(str(p) for p in candidate_paths())
            + "). Run `python -m mlmcourse data` with internet access to download it."
        )
    path = _download(cache_dir() / CLASSROOM_FILE)
    verify_checksum(path)
    return path


def validate_classroom(df: pd.DataFrame, source: str = "the data file") -> pd.DataFrame:
    """Check columns and types; return the frame with the documented dtypes."""
    missing = [c for c in CLASSROOM_COLUMNS if c not in df.columns]
    if missing:
        raise CourseError(
            f"{source} does not have the classroom columns {', '.join(missing)} "
            f"(it has: {', '.join(map(str, df.columns))}). It is not the course's data file: "
            "delete it and run `python -m mlmcourse data`."
        )
    out = df[list(CLASSROOM_COLUMNS)].copy()
    for col, kind in CLASSROOM_COLUMNS.items():
        values = pd.to_numeric(out[col], errors="coerce")
        if values.isna().sum() > out[col].isna().sum():
            raise CourseError(f"Column '{col}' in {source} holds values that are not numbers.")
        if kind == "int":
            if values.isna().any():
                raise CourseError(f"Column '{col}' in {source} has missing values; it should have none.")
            values = values.astype("int64")
        else:
            values = values.astype("float64")
        out[col] = values
    return out


def load_classroom(download: bool = True) -> pd.DataFrame:
    """Return the classroom data as a validated DataFrame (1190 students, 312 classrooms, 107 schools)."""
    path = find_classroom(download=download)
    try:
        df = pd.read_csv(path)
    except Exception as exc:
        raise CourseError(f"{path} could not be read as CSV ({exc}).") from None
    return validate_classroom(df, source=str(path))
