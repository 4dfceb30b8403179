"""The offline web book (``make book``) and its PDF (``make pdf``), read in a real browser.

The book is built once from the committed notebooks, served on 127.0.0.1, and opened in Debian's
Chromium (Playwright) with every request to another host blocked and recorded. Checked on every
page: it loads without console errors and without asking another host for anything; math is
typeset (no raw TeX left in the text); every image has real alt text; axe-core (vendored from
npm) finds no violation of serious or critical impact. Across the book: every internal link
resolves (file and anchor), the quiz shows its questions' options, and the search finds
"Satterthwaite". The PDF is printed and must hold every chapter.
"""
from __future__ import annotations

import functools
import http.server
import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from mlmcourse.tools import book as bookmod
from mlmcourse.tools import vendor

PROJECT = Path(__file__).resolve().parents[2]
NOTEBOOKS = PROJECT / "notebooks"
CHROMIUM = "/usr/bin/chromium"
AXE = {"axe-core": "4.10.3"}

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book") / "book"
    bookmod.build(NOTEBOOKS, out)
    return out


@pytest.fixture(scope="module")
def server(built):
    handler = functools.partial(_QuietHandler, directory=str(built))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def pages(built: Path) -> list[str]:
    return sorted(p.name for p in built.glob("*.html") if p.name not in ("genindex.html", "search.html"))


class Visit:
    """A page opened with other hosts blocked: what it logged, what it asked for elsewhere."""

    def __init__(self, browser, url: str, wait_widgets: bool = False):
        self.page = browser.new_page(viewport={"width": 1280, "height": 720})
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r):
            if urlsplit(r.request.url).hostname in ("127.0.0.1", None) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()
        self.page.route("**/*", route)
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function("!window.MathJax || (MathJax.Hub && MathJax.Hub.queue.pending === 0"
                                    " && MathJax.Hub.queue.running === 0)", timeout=60_000)
        if wait_widgets:
            self.page.wait_for_selector(".jupyter-widgets", timeout=30_000)
            self.page.wait_for_timeout(1500)     # MathJax typesets what the widgets added

    def close(self):
        self.page.close()


def test_the_book_has_a_page_per_notebook_in_reading_order(built):
    names = [p.stem for p in bookmod.notebooks_in(NOTEBOOKS)]
    assert set(pages(built)) >= {f"{n}.html" for n in names} | {"index.html"}
    index = (built / "index.html").read_text(encoding="utf-8")
    positions = [index.find(f'href="{n}.html"') for n in names]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    nxt = re.search(r'class="right-next"\s+href="([^"]+)"', (built / f"{names[0]}.html").read_text(encoding="utf-8"))
    assert nxt and nxt.group(1) == f"{names[1]}.html"


def test_every_page_loads_offline_without_errors_with_typeset_math_and_alt_text(built, server, browser):
    problems = []
    for name in pages(built):
        v = Visit(browser, f"{server}/{name}", wait_widgets=name.startswith("05_"))
        try:
            if v.errors:
                problems.append(f"{name}: console errors {v.errors[:3]}")
            if v.blocked:
                problems.append(f"{name}: asked other hosts for {v.blocked[:3]}")
            text = v.page.inner_text("main")
            raw = re.findall(r"\\\(|\\\[|\\frac|\\sigma|\$\$", text)
            if raw:
                problems.append(f"{name}: raw TeX in the text ({raw[:3]})")
            for src, alt in v.page.eval_on_selector_all("main img", "els => els.map(e => [e.src.slice(0, 40), e.alt])"):
                if not alt or len(alt.strip()) < 15:
                    problems.append(f"{name}: an image without real alt text ({src}: {alt!r})")
        finally:
            v.close()
    assert not problems, "\n".join(problems)


def test_math_is_typeset_on_the_conceptualizations_page(server, browser):
    v = Visit(browser, f"{server}/01_conceptualizations.html")
    try:
        assert v.page.locator("main .MathJax, main .MathJax_CHTML, main .MathJax_Display").count() > 20
    finally:
        v.close()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_every_internal_link_resolves(built):
    parsed = {p: _parse(p) for p in built.rglob("*.html") if "_static" not in p.parts}
    bad = []
    for page, links in parsed.items():
        for href in links.hrefs:
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("mailto:", "javascript:")) or parts.netloc:
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                bad.append(f"{page.name}: {href} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    bad.append(f"{page.name}: {href} (no such anchor)")
    assert not bad, "\n".join(bad[:20])


def test_the_quiz_page_shows_every_choice(server, browser):
    from mlmcourse.quiz.bank import load_bank
    bank = load_bank(chapter=2)
    choices = [(q.id, c) for q in bank.questions if q.kind == "choice" for c in q.choices]
    assert choices
    v = Visit(browser, f"{server}/05_quiz.html", wait_widgets=True)
    try:
        text = re.sub(r"\s+", " ", v.page.inner_text("main"))
        plain = [(qid, re.sub(r"\s+", " ", c).strip()) for qid, c in choices if "$" not in c]
        missing = [(qid, c) for qid, c in plain if c[:40] not in text]
        assert not missing, missing[:5]
        assert v.page.locator("main .widget-radio-box input[type=radio]").count() >= len(plain)
    finally:
        v.close()


def test_the_search_finds_satterthwaite(server, browser):
    v = Visit(browser, f"{server}/search.html?q=Satterthwaite")
    try:
        v.page.wait_for_selector("#search-results ul.search li", timeout=30_000)
        hits = v.page.locator("#search-results ul.search li a").all_inner_texts()
        assert hits, "no search results"
    finally:
        v.close()


def test_axe_finds_no_serious_or_critical_violation(built, server, browser, tmp_path_factory):
    axe_dir = vendor.fetch_vendor(tmp_path_factory.mktemp("axe"), packages=AXE, what="the accessibility check")
    axe_js = axe_dir / "axe-core" / "axe.min.js"
    found = []
    for name in pages(built):
        v = Visit(browser, f"{server}/{name}", wait_widgets=name.startswith("05_"))
        try:
            v.page.add_script_tag(path=str(axe_js))
            result = v.page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']}))"
                                     ".violations.map(x => ({id: x.id, impact: x.impact, n: x.nodes.length,"
                                     " where: x.nodes.slice(0, 2).map(n => n.target.join(' '))}))")
            found += [f"{name}: {x['id']} ({x['impact']}, {x['n']} nodes: {x['where']})"
                      for x in result if x["impact"] in ("serious", "critical")]
        finally:
            v.close()
    assert not found, "\n".join(found)


def test_the_pdf_holds_every_chapter(built, browser):
    from pypdf import PdfReader
    pdf = bookmod.build_pdf(built, browser)
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 30, len(reader.pages)
    marks = [m.title for m in reader.outline]
    assert marks == ["index"] + [nb.stem for nb in bookmod.notebooks_in(NOTEBOOKS)]
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Satterthwaite" in text and "Run this page yourself" in text
    quiz = next(i for i, m in enumerate(reader.outline) if m.title.startswith("05_"))
    start = reader.get_destination_page_number(reader.outline[quiz])
    end = reader.get_destination_page_number(reader.outline[quiz + 1])
    quiz_text = " ".join(reader.pages[i].extract_text() for i in range(start, end))
    assert "Check" in quiz_text          # the saved quiz widgets were drawn before printing
