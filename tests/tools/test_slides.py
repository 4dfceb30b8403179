"""Offline reveal.js slides: structure, no remote reference, and a real Chromium with no network."""
from __future__ import annotations

import base64
import io
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlmcourse.errors import CourseError
from mlmcourse.tools import slides

pytestmark = pytest.mark.slow   # building the decks takes seconds (nbconvert, npm pack)

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CACHE = PROJECT / "build" / "npm"


def _vendor_available() -> bool:
    cached = all((CACHE / f"{n}-{v}.tgz").is_file() for n, v in slides.VENDOR.items())
    return cached or shutil.which("npm") is not None


def _png() -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [1, 0, 2])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _demo_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    fig = nbformat.v4.new_code_cell("plot()")
    fig.outputs = [nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"},
                                           metadata={"image/png": {"alt": "a zigzag line"}})]
    widget = nbformat.v4.new_code_cell("quiz.header()")
    widget.outputs = [nbformat.v4.new_output("execute_result", execution_count=1, data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "text/plain": "VBox(children=(Text(value='')))"})]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Demo chapter\n\nIntro text."),
        nbformat.v4.new_markdown_cell("## The model\n\n$$Y_{ijk} = b_0 + \\zeta_k + \\varepsilon_{ijk}$$"),
        nbformat.v4.new_code_cell("1 + 1"),
        fig,
        nbformat.v4.new_markdown_cell("### A detail\n\nInline math $\\sigma^2_\\zeta$."),
        nbformat.v4.new_markdown_cell("## Quiz"),
        widget,
    ]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    path.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path / "demo.ipynb")
    return path / "demo.ipynb"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not _vendor_available():
        pytest.skip("slides test skipped: npm is not available to fetch reveal.js/MathJax "
                    "(and the per-user cache has no copy)")
    out = tmp_path_factory.mktemp("slides")
    demo = slides.build(_demo_notebook(out / "src"), out)
    chapters = slides.build(PROJECT / "notebooks", out) if list((PROJECT / "notebooks").glob("*.ipynb")) else []
    return out, demo[0], chapters


def test_every_deck_loads_nothing_remote(built):
    out, demo, chapters = built
    decks = [demo, *chapters]
    assert (PROJECT / "notebooks" / "05_quiz.ipynb").exists() and len(chapters) >= 1
    for deck in decks:
        text = deck.read_text()
        assert slides.remote_refs(deck) == [], deck.name
        refs = [u for _, u in slides.loaded_refs(text)]
        assert "vendor/reveal.js/dist/reveal.css" in refs
        assert any(u.startswith("vendor/mathjax/MathJax.js") for u in refs)
        for u in refs:  # every local file the page loads exists
            if not u.startswith("data:"):
                assert (out / u.split("?")[0]).exists(), (deck.name, u)
    assert (out / "index.html").read_text().count(".slides.html") == len({d.name for d in decks})


def test_remote_reference_scanner_finds_what_a_browser_would_load(tmp_path):
    page = tmp_path / "p.html"
    (tmp_path / "local.css").write_text("@import url('https://fonts.example.org/x.css');")
    page.write_text(
        '<html><head><script src="https://cdn.example.org/require.js"></script>'
        '<link rel="stylesheet" href="local.css">'
        "<style>body{background:url(//cdn.example.org/bg.png)}</style>"
        "<script type=\"module\">import mermaid from 'https://cdn.example.org/m.mjs';</script>"
        '</head><body><a href="https://example.org/just-a-link">a link is fine</a>'
        "<script>// see https://example.org/docs (a comment)\n</script></body></html>")
    bad = slides.remote_refs(page)
    assert len(bad) == 4, bad
    assert not any("just-a-link" in b or "docs" in b for b in bad)


def test_slide_breaks_and_widgets(built):
    _, demo, _ = built
    nb = nbformat.read(demo.parent / "src" / "demo.ipynb", as_version=4)
    kinds = [c.metadata["slideshow"]["slide_type"] for c in slides.prepare(nb).cells]
    assert kinds == ["slide", "slide", "-", "subslide", "subslide", "slide", "-"]
    text = demo.read_text()
    assert "open this notebook in" in text and "widget-view+json" not in text
    assert "unpkg.com" not in text and "embed-amd" not in text


def test_author_slide_metadata_is_kept():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## a"), nbformat.v4.new_code_cell("setup()"),
                nbformat.v4.new_markdown_cell("## b")]
    nb.cells[1].metadata["slideshow"] = {"slide_type": "skip"}
    kinds = [c.metadata["slideshow"]["slide_type"] for c in slides.prepare(nb).cells]
    assert kinds == ["slide", "skip", "slide"]  # author's 'skip' kept, breaks still automatic
    nb.cells[2].metadata["slideshow"] = {"slide_type": "fragment"}
    nb.cells[0].metadata["slideshow"] = {"slide_type": "subslide"}
    out = slides.prepare(nb)  # the author's own breaks: nothing is added
    assert [c.metadata["slideshow"]["slide_type"] for c in out.cells] == ["subslide", "skip", "fragment"]


def test_no_notebooks_is_a_course_error(tmp_path):
    with pytest.raises(CourseError, match="No notebooks"):
        slides.build(tmp_path, tmp_path / "out")


def _reveal_ready(page):
    """reveal.js initialised: the deck is marked ready, and its API (an AMD module) says so."""
    page.wait_for_selector(".reveal.ready", state="attached", timeout=30_000)
    ready = page.evaluate("""() => new Promise(resolve => require(['vendor/reveal.js/dist/reveal.js'],
                                     R => { window.RevealApi = R; resolve(R.isReady()); }))""")
    assert ready is True


@pytest.mark.browser
def test_slides_work_in_chromium_with_the_network_off(built, browser_page):
    _, demo, chapters = built
    page = browser_page
    blocked = []

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(demo.as_uri())
    _reveal_ready(page)
    assert page.evaluate("() => window.RevealApi.getTotalSlides()") >= 5
    page.evaluate("() => window.RevealApi.configure({transition: 'none', backgroundTransition: 'none'})")
    page.evaluate("() => window.RevealApi.slide(1, 0)")  # the model equation
    page.wait_for_function(  # MathJax (local) typeset the equation on this slide and is idle
        """() => { const m = document.querySelector('section.present .MathJax_CHTML');
                   const q = window.MathJax && MathJax.Hub && MathJax.Hub.queue;
                   return !!m && m.getBoundingClientRect().width > 100 && q && !q.pending && !q.running; }""",
        timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "slides_equation.png"))
    page.evaluate("() => window.RevealApi.slide(1, 1)")  # the figure's own sub-slide
    page.wait_for_function(
        "() => { const i = document.querySelector('section.present img'); return i && i.naturalWidth > 0; }",
        timeout=30_000)
    # the drawn picture (object-fit: contain) fills most of the slide's height: a large figure
    drawn = page.evaluate("""() => { const i = document.querySelector('section.present img');
        const r = i.getBoundingClientRect(); const s = Math.min(r.width / i.naturalWidth, r.height / i.naturalHeight);
        return i.naturalHeight * s / document.querySelector('.reveal .slides').getBoundingClientRect().height; }""")
    assert drawn > 0.55, f"the figure is not shown large ({drawn:.0%} of the slide height)"
    page.screenshot(path=str(ARTIFACTS / "slides_figure.png"))
    if chapters:
        deck = next((c for c in chapters if c.name.startswith("01")), chapters[0])
        page.goto(deck.as_uri())
        _reveal_ready(page)
        page.screenshot(path=str(ARTIFACTS / "slides_chapter.png"))
    assert blocked == [], f"the slides tried to load remote files: {blocked[:5]}"


def test_jupyterlab_rise_is_installed_and_enabled():
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [str(jupyter)] if jupyter.exists() else [sys.executable, "-m", "jupyter"]
    proc = subprocess.run([*cmd, "labextension", "list"], capture_output=True, text=True, timeout=120)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "jupyterlab-rise" in line]
    assert lines, "jupyterlab-rise (live slides in JupyterLab) is not installed"
    assert "enabled" in lines[0] and "OK" in lines[0], lines[0]


def test_slides_hide_nbval_markers():
    import nbformat

    from mlmcourse.tools.slides import prepare

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nx = 1\nx")]
    assert prepare(nb).cells[0].source == "x = 1\nx"
    assert nb.cells[0].source.startswith("# NBVAL_CHECK_OUTPUT")  # the notebook itself is unchanged


def test_every_slide_image_has_its_alt_text(built):
    """nbconvert's own template drops the images' alt metadata; the course's template keeps it."""
    import html
    import re

    _, demo, chapters = built
    assert re.search(r'<img alt="a zigzag line"[^>]* src="data:image/png', demo.read_text())
    for deck in chapters:
        imgs = re.findall(r"<img\b[^>]*>", deck.read_text())
        without = [i[:80] for i in imgs if not re.search(r'\balt="[^"]{10,}"', i)]
        assert not without, f"{deck.name}: {len(without)} of {len(imgs)} images without alt text"
    deck = next(d for d in chapters if d.name.startswith("02"))   # the alt text is the notebook's, escaped
    nb = nbformat.read(PROJECT / "notebooks" / "02_constructing_effects.ipynb", as_version=4)
    alt = next(out["metadata"]["image/png"]["alt"] for c in nb.cells if c.cell_type == "code"
               for out in c.get("outputs", []) if "image/png" in out.get("metadata", {}))
    assert f'alt="{html.escape(alt)}"' in deck.read_text()
