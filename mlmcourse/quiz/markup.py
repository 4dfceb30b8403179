"""The quiz's bits of HTML: a little Markdown for the bank's texts, and the coloured feedback box.

    render("Use `icc(m)`, **not** the SDs")   # -> "<p>Use <code>icc(m)</code>, <b>not</b> the SDs</p>"
    box("ok", "<p><b>Correct.</b></p>")       # a box with a green bar on its left

$math$ is left as it is, for MathJax.
"""
from __future__ import annotations

import html
import re

_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<b>\1</b>"),
    (re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])"), r"<i>\1</i>"),
]

BOX_COLORS = {"ok": "#1b7837", "bad": "#b2182b", "info": "#2c5d8f", "hidden": "#666666"}


def render(text: str) -> str:
    """Turn a little Markdown (paragraphs, `code`, **bold**, *italic*) into HTML; $math$ is left for MathJax."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    out = []
    for p in paragraphs:
        p = html.escape(" ".join(line.strip() for line in p.splitlines()), quote=False)
        for pattern, repl in _INLINE:
            p = pattern.sub(repl, p)
        out.append(f"<p>{p}</p>")
    return "\n".join(out)


def box(kind: str, body: str) -> str:
    """Wrap HTML in the feedback box of its kind: "ok", "bad", "info" or "hidden"."""
    return (f'<div class="mlm-fb mlm-fb-{kind}" style="border-left:4px solid {BOX_COLORS[kind]};'
            f'padding:4px 10px;margin:4px 0">{body}</div>')


def plain_text(markup: str) -> str:
    """Return the words of some HTML, tags removed and spaces collapsed (a page's text/plain version)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(markup)).split())
