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
import html
import re
from datetime import datetime
from pathlib import Path

from ..errors import CourseError
from ..userfiles import answers_dir, atomic_write_text
from .bank import Bank, fill, load_bank
from .store import AnswerStore

FORMATS = ("md", "html")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "answers"


def default_filename(bank: Bank, student: str, fmt: str) -> str:
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
    """What an instructor runs to get the expected answers of a student's seed."""
    return f"python -m mlmcourse quiz answers --seed {seed}"


def seed_line(seed) -> str:
    """The hand-in's line about the seed (plain text; Markdown and HTML add their markup)."""
    if seed is None:
        return "no seed yet (open the quiz notebook once: it makes one)"
    return f"seed {seed} (instructors: `{answers_command(seed)}` gives the expected answers)"


def _prompt(q, value) -> str:
    """A question's text as the quiz shows it: ``[[name]]`` filled in (prompts never depend on the
    seed), or left as it is if a value cannot be had."""
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


def render_markdown(bank: Bank, data: dict, value=None) -> str:
    """The hand-in as Markdown; ``value(name)`` fills the prompts' ``[[name]]`` (default: the
    course's live values)."""
    value = _values() if value is None else value
    student = str(data.get("student", "")).strip()
    seed = data.get("seed")
    lines = [f"# {bank.form}", "", f"*{bank.title}*", "",
             f"**Name:** {student or '(fill in your name)'}  ",
             f"**Your data:** {seed_line(seed)}  ",
             f"**Exported:** {datetime.now().strftime('%Y-%m-%d %H:%M')}", ""]
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
    return "\n".join(lines)


def render_html(bank: Bank, data: dict, value=None) -> str:
    """The hand-in as a web page (see :func:`render_markdown`)."""
    value = _values() if value is None else value
    esc = lambda t: html.escape(str(t), quote=False)  # noqa: E731
    student = str(data.get("student", "")).strip()
    seed = data.get("seed")
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
           f"<b>Exported:</b> {datetime.now().strftime('%Y-%m-%d %H:%M')}</p>"]
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
    out.append("</body></html>")
    return "\n".join(out)


def incomplete_warning(path: Path, problems: list[str]) -> str:
    """What to tell the student about a hand-in file that may miss answers (``store.problems()``)."""
    return (f"The hand-in file {path} may not hold all your answers: {'; '.join(problems)}. Open the "
            "quiz notebook, which says what happened and where any copy is, check your answers there "
            "and export again before handing the file in.")


def export_answers(chapter: int = 2, out: str | Path | None = None, fmt: str | None = None,
                   student: str | None = None, store: AnswerStore | None = None,
                   bank: Bank | None = None, with_link: bool = False):
    """Write the hand-in file; return its path (and an HTML download link if ``with_link``).

    ``fmt`` is 'md' or 'html' (default: from ``out``'s suffix, else 'md'); ``out`` defaults to
    ``<answers folder>/handin/<form>-<name>.<fmt>``."""
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
