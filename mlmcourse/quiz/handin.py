"""The hand-in file: a student's saved answers with the question texts (e.g. "W2 Activity Form").

Used by the quiz's Export button and by ``python -m mlmcourse answers export``. Only the
student's own answers go in (no model answers), in their latest saved version; automatic
questions also say whether the last check was right. The student's seed is written at the top
(and next to every question asked on their own data), with the command an instructor runs to get
the expected answers for it. When the store had a problem (a damaged
file set aside, a save that failed, no answers while a set-aside copy exists) the file is still
written, and :func:`incomplete_warning` says what to check before handing it in.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..errors import CourseError
from ..userfiles import answers_dir, atomic_write_text
from .bank import Bank, decoded_raw, fill, load_bank
from .store import AnswerStore

FORMATS = ("md", "html")
BLOCK_TAG = "mlmcourse-handin"    # the machine-readable block: ```json mlmcourse-handin (md), <script id=...> (html)
BLOCK_FORMAT = 1
MD_OPEN = f"```json {BLOCK_TAG}"
HTML_OPEN = f'<script type="application/json" id="{BLOCK_TAG}">'
BLOCK_NOTE = ("The block below is read by the instructor's grading tool (python -m mlmcourse quiz grade). "
              "Do not edit it: the grading reads your answers from it, and an edited block is flagged.")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "answers"


def default_filename(bank: Bank, student: str, fmt: str) -> str:
    """Return the hand-in's file name: the form's name and the student's, as a file name allows."""
    name = _slug(bank.form)
    if student.strip():
        name += "-" + _slug(student)
    return f"{name}.{fmt}"


def _answer_text(q, entry: dict) -> str:
    ans = entry.get("answer")
    if ans is None or (isinstance(ans, str) and not ans.strip()):
        return "(no answer)"
    if q.kind == "choice":
        try:
            return f"{int(ans) + 1}. {q.choices[int(ans)]}"
        except (ValueError, IndexError):
            return "(no answer)"
    return str(ans).strip()


def _status(q, entry: dict) -> str:
    if not q.auto or not entry.get("checked"):
        return ""
    return "checked: correct" if entry.get("correct") else "checked: not correct"


def answers_command(seed) -> str:
    """Return what an instructor runs to get the expected answers of a student's seed."""
    return f"python -m mlmcourse quiz answers --seed {seed}"


def seed_line(seed) -> str:
    """Return the hand-in's line about the seed (plain text; Markdown and HTML add their markup)."""
    if seed is None:
        return "no seed yet (open the quiz notebook once: it makes one)"
    return f"seed {seed} (instructors: `{answers_command(seed)}` gives the expected answers)"


def _prompt(q, value) -> str:
    """Return a question's text as the quiz shows it: ``[[name]]`` filled in.

    Prompts never depend on the seed; the text is left as it is if a value cannot be had.
    """
    if value is None:
        return q.prompt.strip()
    try:
        return fill(q.prompt, value).strip()
    except Exception:  # the file is written anyway: better a placeholder than no hand-in
        return q.prompt.strip()


def _values():
    from .live import default_context
    return default_context().value


def _your_data(q, seed) -> str:
    return f"your data, seed {seed}" if q.variant and seed is not None else ("your data" if q.variant else "")


_bank_versions: dict = {}


def bank_version(bank: Bank) -> str:
    """Return a short hash of the question bank's content.

    Of its decoded fields, so encoding a bank file does not change it: two hand-ins with the
    same version were made from the same questions.
    """
    path = Path(bank.path)
    try:
        key = (str(path.resolve()), path.stat().st_mtime_ns)
    except OSError:
        key = None
    if key is None or key not in _bank_versions:
        text = json.dumps(decoded_raw(path), sort_keys=True, ensure_ascii=True, default=str)
        version = "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()[:16]
        if key is None:
            return version
        _bank_versions[key] = version
    return _bank_versions[key]


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def block_checksum(payload: dict) -> str:
    """Return the checksum of a block's content (everything but the checksum itself)."""
    rest = {k: v for k, v in payload.items() if k != "checksum"}
    return "sha256:" + hashlib.sha256(_canonical(rest)).hexdigest()


def _block_answer(q, entry: dict):
    ans = entry.get("answer")
    if ans is None or (isinstance(ans, str) and not ans.strip()):
        return None
    if q.kind == "choice":
        try:
            idx = int(ans)
        except (TypeError, ValueError):
            return None
        return idx if 0 <= idx < len(q.choices) else None
    return str(ans)


def handin_block(bank: Bank, data: dict, exported: str) -> dict:
    """Return the machine-readable part of a hand-in.

    Every question's id, kind, answer (a choice as its index from 0, a number as typed) and what
    the quiz said (checked, correct); the seed, the bank's version and a checksum of the whole.
    """
    answers = data.get("answers", {})
    rows = []
    for q in bank.questions:
        entry = answers.get(q.id, {})
        checked = bool(entry.get("checked")) and q.auto
        rows.append({"id": q.id, "kind": q.kind, "answer": _block_answer(q, entry), "checked": checked,
                     "correct": (bool(entry.get("correct")) if checked and entry.get("correct") is not None
                                 else None)})
    payload = {"format": BLOCK_FORMAT, "chapter": bank.chapter, "form": bank.form,
               "student": str(data.get("student", "")).strip(), "seed": data.get("seed"),
               "bank": bank_version(bank), "exported": exported, "answers": rows}
    return {**payload, "checksum": block_checksum(payload)}


def _block_json(block: dict) -> str:
    # ASCII only (an editor's re-encoding cannot change it), one question per line; "<" escaped so
    # that no text can close the HTML script element
    lines = ",\n  ".join(json.dumps(r, ensure_ascii=True) for r in block["answers"])
    head = {k: v for k, v in block.items() if k not in ("answers", "checksum")}
    text = (json.dumps(head, ensure_ascii=True)[:-1] + ',\n "answers": [\n  ' + lines + "\n ],\n"
            + f' "checksum": {json.dumps(block["checksum"])}}}')
    return text.replace("<", "\\u003c")


def render_markdown(bank: Bank, data: dict, value=None) -> str:
    """Return the hand-in as Markdown.

    ``value(name)`` fills the prompts' ``[[name]]`` (default: the course's live values).
    """
    value = _values() if value is None else value
    student = str(data.get("student", "")).strip()
    seed = data.get("seed")
    exported = datetime.now().strftime('%Y-%m-%d %H:%M')
    lines = [f"# {bank.form}", "", f"*{bank.title}*", "",
             f"**Name:** {student or '(fill in your name)'}  ",
             f"**Your data:** {seed_line(seed)}  ",
             f"**Exported:** {exported}", ""]
    answers = data.get("answers", {})
    for s in bank.sections:
        lines += [f"## {s.title}", ""]
        for q in s.questions:
            entry = answers.get(q.id, {})
            mine = _your_data(q, seed)
            lines.append(f"### {q.id}" + (f" ({mine})" if mine else ""))
            lines.append("")
            lines.append(_prompt(q, value))
            lines.append("")
            if q.kind == "choice":
                lines += [f"{i + 1}. {c}" for i, c in enumerate(q.choices)] + [""]
            status = _status(q, entry)
            lines.append("**Answer:**" + (f" _({status})_" if status else ""))
            lines.append("")
            lines += ["> " + line if line.strip() else ">" for line in _answer_text(q, entry).splitlines()]
            lines.append("")
    lines += ["---", "", f"<!-- {BLOCK_NOTE} -->", "", MD_OPEN, _block_json(handin_block(bank, data, exported)),
              "```", ""]
    return "\n".join(lines)


def render_html(bank: Bank, data: dict, value=None) -> str:
    """Return the hand-in as a web page (see :func:`render_markdown`)."""
    value = _values() if value is None else value
    esc = lambda t: html.escape(str(t), quote=False)
    student = str(data.get("student", "")).strip()
    seed = data.get("seed")
    exported = datetime.now().strftime('%Y-%m-%d %H:%M')
    seed_html = (esc(seed_line(None)) if seed is None else
                 f'seed <b class="seed">{esc(seed)}</b> (instructors: <code>{esc(answers_command(seed))}</code> '
                 "gives the expected answers)")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{esc(bank.form)}</title>",
           "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}"
           ".answer{border-left:4px solid #2c5d8f;padding:.3em .8em;background:#f4f7fb;white-space:pre-wrap}"
           ".status{color:#555;font-style:italic}</style></head><body>",
           f"<h1>{esc(bank.form)}</h1>", f"<p><i>{esc(bank.title)}</i></p>",
           f"<p><b>Name:</b> {esc(student) or '(fill in your name)'}<br>"
           f"<b>Your data:</b> {seed_html}<br>"
           f"<b>Exported:</b> {exported}</p>"]
    answers = data.get("answers", {})
    for s in bank.sections:
        out.append(f"<h2>{esc(s.title)}</h2>")
        for q in s.questions:
            entry = answers.get(q.id, {})
            mine = _your_data(q, seed)
            out.append(f"<h3>{esc(q.id)}" + (f' <span class="status">({esc(mine)})</span>' if mine else "") + "</h3>")
            out.append("".join(f"<p>{esc(p)}</p>" for p in _prompt(q, value).split("\n\n")))
            if q.kind == "choice":
                out.append("<ol>" + "".join(f"<li>{esc(c)}</li>" for c in q.choices) + "</ol>")
            status = _status(q, entry)
            out.append("<p><b>Answer:</b>" + (f' <span class="status">({status})</span>' if status else "") + "</p>")
            out.append(f'<div class="answer">{esc(_answer_text(q, entry))}</div>')
    out += [f"<!-- {BLOCK_NOTE} -->", HTML_OPEN + _block_json(handin_block(bank, data, exported)) + "</script>",
            "</body></html>"]
    return "\n".join(out)


def incomplete_warning(path: Path, problems: list[str]) -> str:
    """Return what to tell the student about a hand-in file that may miss answers (``store.problems()``)."""
    return (f"The hand-in file {path} may not hold all your answers: {'; '.join(problems)}. Open the "
            "quiz notebook, which says what happened and where any copy is, check your answers there "
            "(then press 'I have checked my answers' under the note) and export again before handing the "
            "file in.")


def export_answers(chapter: int = 2, out: str | Path | None = None, fmt: str | None = None,
                   student: str | None = None, store: AnswerStore | None = None,
                   bank: Bank | None = None, with_link: bool = False):
    """Write the hand-in file; return its path (and an HTML download link if ``with_link``).

    ``fmt`` is 'md' or 'html' (default: from ``out``'s suffix, else 'md'); ``out`` defaults to
    ``<answers folder>/handin/<form>-<name>.<fmt>``.
    """
    bank = bank if bank is not None else load_bank(chapter=chapter)
    if fmt is None:
        suffix = Path(out).suffix.lower().lstrip(".") if out else ""
        fmt = {"markdown": "md", "htm": "html"}.get(suffix, suffix) or "md"
    if fmt not in FORMATS:
        raise CourseError(f"The export format '{fmt}' is not known: use 'md' (Markdown) or 'html'.")
    if store is None:
        store = AnswerStore(bank.chapter)
        try:
            data = store.data
        finally:
            store.close()
    else:
        data = store.data  # the latest saved versions (other kernels' too) and unsaved changes
    if student is not None:
        data["student"] = student
    text = render_markdown(bank, data) if fmt == "md" else render_html(bank, data)
    path = Path(out) if out else answers_dir() / "handin" / default_filename(bank, str(data.get("student", "")), fmt)
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise CourseError(f"The hand-in file could not be written to {path} ({exc.strerror or exc}). "
                          "Choose another place, e.g. `--out ~/handin.md`.") from None
    if not with_link:
        return path
    mime = "text/markdown" if fmt == "md" else "text/html"
    b64 = base64.b64encode(text.encode("utf-8")).decode("ascii")
    link = (f'<a download="{html.escape(path.name)}" href="data:{mime};charset=utf-8;base64,{b64}">'
            "Download it</a>.")
    return path, link


# -- reading a hand-in (instructors) ----------------------------------------------------------
@dataclass
class HandIn:
    """A hand-in file as its machine-readable block says (never as its prose says)."""

    path: Path
    chapter: int
    form: str
    student: str
    seed: int | None
    bank: str
    exported: str
    answers: dict = field(default_factory=dict)   # question id -> {"kind", "answer", "checked", "correct"}
    checksum_ok: bool = True


AGAIN = ("Ask the student to export the answers again (`python -m mlmcourse answers export`, or the quiz's "
         "Export button).")


def read_text(path) -> str:
    """Return a hand-in file's text (UTF-8); one clear paragraph when it cannot be read or decoded."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise CourseError(f"{path} is a folder, not a hand-in file.") from None
    except OSError as exc:
        raise CourseError(f"The hand-in file {path} cannot be read ({exc.strerror or exc}).") from None
    if _utf16(data):
        raise CourseError(f"The hand-in file {path.name} is saved as UTF-16 (an editor such as Notepad's "
                          "'Unicode'), not UTF-8 as the course writes it. Open it, save it as UTF-8 (Save As, "
                          f"encoding UTF-8) and read it again; or: {AGAIN}")
    if not _text_like(data):
        raise CourseError(f"{path.name} is not a hand-in file: it does not hold text (the course writes a "
                          "Markdown or HTML file, UTF-8). It may be another download, or a damaged copy. "
                          f"{AGAIN}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CourseError(f"The hand-in file {path.name} is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}; "
                          "it was probably saved again by an editor as Latin-1 or Windows-1252). Save it as UTF-8 "
                          f"(Save As, encoding UTF-8) and read it again; or: {AGAIN}") from None


def _utf16(data: bytes) -> bool:
    """Return whether ``data`` is UTF-16 text.

    A byte-order mark, or (without one) the pattern UTF-16 gives mostly-Latin text: a zero byte
    in most odd positions (little-endian) or most even ones (big).
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    sample = data[:4000]
    pairs = len(sample) // 2
    if pairs < 8:
        return False
    even, odd = sample[0:2 * pairs:2].count(0), sample[1:2 * pairs:2].count(0)
    return max(even, odd) >= 0.6 * pairs and min(even, odd) <= 0.05 * pairs


def _text_like(data: bytes) -> bool:
    """Return whether ``data`` looks like text in a one-byte encoding (UTF-8, Latin-1...).

    No zero bytes, and few control characters other than tabs and line ends.
    """
    sample = data[:20000]
    if b"\x00" in sample:
        return False
    control = sum(sample.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13)) + sample.count(b"\x7f")
    return control <= 0.01 * len(sample)


def _block_text(text: str, name: str) -> str:
    """Return the block's JSON: the *last* block of the file.

    The course writes it at the very end, after every text a student typed, so a name or an
    answer can never stand in for it.
    """
    md, htm = text.rfind("\n" + MD_OPEN + "\n"), text.rfind(HTML_OPEN)
    if md < 0 and htm < 0:
        is_html = text.lstrip().lower().startswith("<!doctype html") or "<html" in text[:200].lower()
        # the course ends every file with a newline (Markdown) or </html>: a file that does not was cut
        cut = (BLOCK_TAG in text or "grading tool" in text
               or (not text.rstrip().lower().endswith("</html>") if is_html else not text.endswith("\n")))
        if cut:
            raise CourseError(f"The hand-in file {name} is cut off: it ends before its machine-readable block "
                              f"(written at the end of the file), so it cannot be graded. {AGAIN}")
        raise CourseError(f"The hand-in file {name} has no machine-readable block (it was made by an older "
                          "version of the course, or is not a hand-in file), so it cannot be graded "
                          f"automatically. {AGAIN} To check it by hand: `python -m mlmcourse quiz answers "
                          "--seed N` with the seed written near its top.")
    if md > htm:
        start = md + len(MD_OPEN) + 2
        end = text.find("\n```", start)
    else:
        start = htm + len(HTML_OPEN)
        end = text.find("</script>", start)
    if end < 0:
        raise CourseError(f"The hand-in file {name} is cut off: its machine-readable block at the end is "
                          f"incomplete, so it cannot be graded. {AGAIN}")
    return text[start:end]


def _damaged(name: str, what: str) -> CourseError:
    return CourseError(f"The machine-readable block of the hand-in file {name} is damaged ({what}), so it "
                       f"cannot be graded. {AGAIN}")


def parse_handin(text: str, path="the hand-in") -> HandIn:
    """Return a hand-in from its text: the block's fields, checked (the seed from 10000 to 99999)."""
    from .variants import check_seed

    name = Path(path).name
    text = text.replace("\r\n", "\n")   # an editor on Windows may have saved it with CRLF line ends
    try:
        block = json.loads(_block_text(text, name))
    except json.JSONDecodeError as exc:
        raise _damaged(name, f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(block, dict):
        raise _damaged(name, "not a JSON object")
    if block.get("format") != BLOCK_FORMAT:
        raise CourseError(f"The hand-in file {name} was written in block format {block.get('format')!r}, "
                          f"which this version of the course does not read (it reads format {BLOCK_FORMAT}). "
                          "Update the course, or ask the student to export again.")
    for key, kind in [("chapter", int), ("form", str), ("student", str), ("bank", str), ("answers", list)]:
        if not isinstance(block.get(key), kind) or isinstance(block.get(key), bool):
            raise _damaged(name, f"'{key}' is missing or not a {kind.__name__}")
    seed = block.get("seed")
    seed = None if seed is None else check_seed(seed, where=f"the hand-in file {name}")
    answers = {}
    for row in block["answers"]:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise _damaged(name, "an answer without a question id")
        answers[row["id"]] = {k: row.get(k) for k in ("kind", "answer", "checked", "correct")}
    return HandIn(path=Path(path), chapter=block["chapter"], form=block["form"], student=block["student"],
                  seed=seed, bank=block["bank"], exported=str(block.get("exported", "")), answers=answers,
                  checksum_ok=block.get("checksum") == block_checksum(block))


def read_handin(path) -> HandIn:
    """Read a hand-in file (Markdown or HTML, as ``answers export`` writes it) from its block."""
    return parse_handin(read_text(path), path)


# older hand-ins: the Markdown line that starts with it; in HTML the seed's own element (a name is
# escaped there, so it cannot write one)
_LEGACY_SEED = re.compile(r'^\*\*Your data:\*\* seed (\d+)|<b>Your data:</b> seed <b class="seed">(\d+)</b>', re.M)


def seed_of_handin(path) -> int:
    """Return the seed of a hand-in file.

    From its block; for an older file without one, from the line that *starts* with "Your data:"
    (a name cannot start a line there), if there is exactly one.
    """
    from .variants import check_seed

    text = read_text(path)
    name = Path(path).name
    try:
        handin = parse_handin(text, path)
    except CourseError:
        if MD_OPEN in text or HTML_OPEN in text or BLOCK_TAG in text:
            raise
        found = [a or b for a, b in _LEGACY_SEED.findall(text)]
        if len(found) != 1:
            raise CourseError(f"{name} has no machine-readable block and "
                              + ("names no seed" if not found else "names more than one seed")
                              + " (a hand-in file says 'Your data: seed N' near its top). Pass the seed "
                              "with --seed N instead.") from None
        return check_seed(found[0], where=f"the hand-in file {name}")
    if handin.seed is None:
        raise CourseError(f"The hand-in file {name} has no seed (the student never opened the quiz "
                          "notebook, which makes one). Ask the student to open it and export again.")
    return handin.seed
