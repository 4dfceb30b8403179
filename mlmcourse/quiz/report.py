"""The class report of a grading (``DIR/report.html``), one self-contained page.

Figures embedded as PNG with alt text, no script, no link to fetch; it reads well projected: the
distribution of the scores, the share correct per question, the recognised slips per question, the
open answers grouped by question, every student, the flags and the files that could not be read.
"""
from __future__ import annotations

import base64
import html
import io
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

from ..userfiles import atomic_write_text
from .bank import PLACEHOLDER

CSS = """
body{font-family:system-ui,sans-serif;font-size:20px;line-height:1.45;max-width:60em;margin:1.5em auto;
padding:0 1em;color:#111}
h1{font-size:1.8em}h2{font-size:1.4em;margin-top:1.6em;border-bottom:2px solid #2c5d8f}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.2em .5em;text-align:left}
th{background:#eef2f7}.ok{background:#d9f0d3}.bad{background:#f7d4d4}.flag{color:#8a4b00}
figure{margin:1em 0}figcaption{color:#333;font-size:.9em}img{max-width:100%}
.answer{white-space:pre-wrap;border-left:4px solid #2c5d8f;background:#f4f7fb;padding:.2em .6em;margin:.3em 0}
.small{font-size:.8em}
"""


def esc(text) -> str:
    """Return ``text`` escaped for HTML (quotes too, so it can stand in an attribute)."""
    return html.escape(str(text), quote=True)


def _figure(width: float, height: float):
    """Return a figure of its own (no pyplot: the report never touches a notebook's backend)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height))
    return fig, fig.add_subplot()


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def question_shares(result) -> list[tuple[str, float, float, float]]:
    """(question id, share correct, share wrong, share unanswered) over the graded hand-ins."""
    n = len(result.rows)
    out = []
    for qid in result.graded_ids:
        cells = [r.cells.get(qid) for r in result.rows]
        right, wrong = cells.count(1), cells.count(0)
        out.append((qid, right / n, wrong / n, (n - right - wrong) / n) if n else (qid, 0.0, 0.0, 0.0))
    return out


def shares_alt(shares) -> str:
    """Return the per-question figure in words (its alt text)."""
    if not shares:
        return "No hand-ins were graded."
    worst = sorted(shares, key=lambda s: s[1])
    parts = ", ".join(f"{q} {round(100 * c)}%" for q, c, _, _ in shares)
    return (f"Bar chart of the share of the class correct on each question. Lowest: {worst[0][0]} "
            f"({round(100 * worst[0][1])}% correct). All: {parts}.")


def shares_figure(shares, big: bool = False):
    """Horizontal stacked bars per question: correct, wrong, unanswered (shares of the class)."""
    from matplotlib.ticker import PercentFormatter

    ids = [s[0] for s in shares][::-1]
    right = [s[1] for s in shares][::-1]
    wrong = [s[2] for s in shares][::-1]
    blank = [s[3] for s in shares][::-1]
    scale = 1.6 if big else 1.0
    fig, ax = _figure(9 * scale, (0.32 * len(ids) + 1.2) * scale)
    ax.barh(ids, right, color="#1b7837", label="correct")
    ax.barh(ids, wrong, left=right, color="#b2182b", label="wrong")
    ax.barh(ids, blank, left=[a + b for a, b in zip(right, wrong)], color="#cccccc", label="no answer")
    for y, share in enumerate(right):
        ax.text(0.01, y, f"{round(100 * share)}%", va="center", ha="left", color="white",
                fontsize=(13 if big else 9), fontweight="bold")
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of the class")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncol=3, frameon=False, fontsize=(14 if big else 11))
    ax.tick_params(labelsize=(14 if big else 11))
    ax.xaxis.label.set_size(14 if big else 11)
    fig.tight_layout()
    return fig


def scores_figure(result):
    """Return the figure of the distribution of the scores: how many students got each score."""
    out_of = len(result.graded_ids)
    counts = Counter(r.score for r in result.rows)
    fig, ax = _figure(9, 3.2)
    ax.bar(range(out_of + 1), [counts.get(k, 0) for k in range(out_of + 1)], color="#2c5d8f")
    ax.set_xlabel(f"score (out of {out_of})")
    ax.set_ylabel("hand-ins")
    ax.set_xticks(range(out_of + 1))
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return fig


def _scores_alt(result) -> str:
    scores = sorted(r.score for r in result.rows)
    if not scores:
        return "No hand-ins were graded."
    n = len(scores)
    median = scores[n // 2] if n % 2 else (scores[n // 2 - 1] + scores[n // 2]) / 2
    return (f"Bar chart of the scores of {n} hand-ins, out of {len(result.graded_ids)}: lowest {scores[0]}, "
            f"median {median:g}, highest {scores[-1]}.")


def slip_label(message: str) -> str:
    """Return a recognised slip in a few words: its message's first sentence (live values as '...')."""
    text = " ".join(PLACEHOLDER.sub("...", message).split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return first


def slips_by_question(result) -> dict[str, list[tuple[str, int]]]:
    """Return each question's slips and how many hand-ins made them, most common first.

    {question id: [(slip, how many hand-ins)]}: recognised slips and answers that are not
    numbers.
    """
    out = {}
    for qid in result.graded_ids:
        q = result.bank.question(qid)
        counts = Counter(r.slips[qid] for r in result.rows if qid in r.slips)
        named = [("not a number" if k == "nan" else slip_label(q.mistakes[k].message), n)
                 for k, n in counts.most_common()]
        if named:
            out[qid] = named
    return out


def render_report(result) -> str:
    """Return the class report as one HTML page (see the module's docstring for what it shows)."""
    bank, rows = result.bank, result.rows
    shares = question_shares(result)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{esc(bank.form)}: class report</title><style>{CSS}</style></head><body>",
             f"<h1>{esc(bank.form)}: class report</h1>",
             f"<p>{esc(bank.title)}. {len(rows)} hand-in(s) graded, {len(result.skipped)} file(s) skipped; "
             f"made {datetime.now().strftime('%Y-%m-%d %H:%M')}. Each number is checked against the "
             "student's own expected value (from their seed) within the question's tolerance, as the quiz "
             "checks it; each choice against the bank's key. Open answers are not scored.</p>"]
    if result.skipped:
        parts.append("<h2>Files that could not be graded</h2><ul>" + "".join(
            f"<li><b>{esc(p)}</b>: {esc(why)}</li>" for p, why in result.skipped) + "</ul>")
    flagged = [r for r in rows if r.flags]
    if flagged:
        parts.append("<h2>Flags</h2><p>Flags are not verdicts: look at the files. A checksum only shows that "
                     "the machine-read part was changed, not who changed it, and anyone can recompute it.</p><ul>"
                     + "".join(f"<li><b>{esc(r.handin.student or r.handin.path.name)}</b> "
                               f"({esc(r.handin.path.name)}): {esc('; '.join(r.flags))}</li>" for r in flagged)
                     + "</ul>")
    if rows:
        parts.append("<h2>Distribution of the scores</h2>")
        parts.append(f'<figure><img alt="{esc(_scores_alt(result))}" src="data:image/png;base64,'
                     f'{_png(scores_figure(result))}"><figcaption>{esc(_scores_alt(result))}</figcaption></figure>')
        parts.append("<h2>Share correct per question</h2>")
        alt = shares_alt(shares)
        parts.append(f'<figure><img id="shares" alt="{esc(alt)}" src="data:image/png;base64,'
                     f'{_png(shares_figure(shares))}"><figcaption>Green: correct, red: wrong, grey: no answer. '
                     f"{esc(alt)}</figcaption></figure>")
        parts.append(_slips_html(result, shares))
        parts.append(_open_html(result))
        parts.append(_students_html(result))
    parts.append("</body></html>")
    return "\n".join(parts)


def _slips_html(result, shares) -> str:
    slips = slips_by_question(result)
    out = ["<h2>The most common slips</h2>",
           "<p>The wrong answers the quiz recognises (as it tells the student when they check), per question, "
           "with how many hand-ins made each. Questions in order of their share correct, lowest first.</p>"]
    order = [s[0] for s in sorted(shares, key=lambda s: s[1])]
    listed = [q for q in order if q in slips]
    if not listed:
        out.append("<p>No recognised slips in these hand-ins.</p>")
    for qid in listed:
        q = result.bank.question(qid)
        out.append(f"<h3>{esc(qid)}{' — ' + esc(q.title) if q.title else ''}</h3><ul>"
                   + "".join(f"<li><b>{n}</b> &times; {esc(label)}</li>" for label, n in slips[qid]) + "</ul>")
    return "\n".join(out)


def _open_html(result) -> str:
    out = ["<h2>Open answers, by question</h2>"]
    for q in result.bank.questions:
        if q.kind != "open":
            continue
        answers = [(r.handin.student or r.handin.path.name, r.handin.answers.get(q.id, {}).get("answer"))
                   for r in result.rows]
        given = [(who, a) for who, a in answers if isinstance(a, str) and a.strip()]
        out.append(f"<h3>{esc(q.id)}{' — ' + esc(q.title) if q.title else ''}</h3>"
                   f"<p class='small'>{len(given)} of {len(answers)} answered.</p>")
        out += [f"<p><b>{esc(who)}</b></p><div class='answer'>{esc(a.strip())}</div>" for who, a in given]
    return "\n".join(out)


def _students_html(result) -> str:
    ids = result.graded_ids
    head = "".join(f"<th>{esc(q)}</th>" for q in ids)
    body = []
    for r in sorted(result.rows, key=lambda r: (r.handin.student.lower(), str(r.handin.path))):
        cells = "".join("<td></td>" if r.cells.get(q) is None else
                        ("<td class='ok'>1</td>" if r.cells[q] == 1 else "<td class='bad'>0</td>") for q in ids)
        body.append(f"<tr><td>{esc(r.handin.student)}</td><td>{esc(r.handin.seed or '')}</td>"
                    f"<td><b>{r.score}</b>/{len(ids)}</td>{cells}<td class='flag'>{esc('; '.join(r.flags))}</td>"
                    f"<td class='small'>{esc(r.handin.path.name)}</td></tr>")
    return ("<h2>Every student</h2><p>1 correct, 0 wrong, empty: no answer.</p>"
            "<div style='overflow-x:auto'><table class='small'><tr><th>student</th><th>seed</th><th>score</th>"
            f"{head}<th>flags</th><th>file</th></tr>" + "".join(body) + "</table></div>")


def write_report(result, path: Path) -> Path:
    """Write the class report to ``path`` (atomically) and return the path."""
    atomic_write_text(Path(path), render_report(result))
    return Path(path)
