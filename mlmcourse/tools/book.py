"""The course as an offline web book (``make book``) and a printable PDF (``make pdf``).

    python -m mlmcourse book [--src notebooks] [--out build/book]
    python -m mlmcourse book --pdf            # the book, then build/book/mlmcourse.pdf

One page per notebook in reading order (the executed outputs as committed), a contents sidebar,
previous/next links and a search, built with Sphinx, myst-nb and sphinx-book-theme (Jupyter
Book 1's parts, driven directly: Jupyter Book 2 / mystmd fetch a theme from the internet at
build time). Nothing is loaded from another host when a page is read: MathJax 2, require.js and
the widget manager (@jupyter-widgets/html-manager, which renders the saved widget state: the
quiz's questions and options, the explorations' controls) are fetched once at build time from
the npm registry (``mlmcourse.tools.vendor``) into ``_static/vendor``. MathJax 2 rather than 3:
the widget manager's HTMLMath calls MathJax 2's API.

The notebooks are copied into a staging folder first and changed only there:
- each figure becomes an ``<img>`` with the alt text the course keeps in the output's metadata
  (myst-nb reads only width and height from it);
- each exploration's controls get a note that they move the figure when the notebook runs in
  JupyterLab;
- each page starts with how to open the notebook in JupyterLab.

The PDF is every page of the book printed by Chromium (Playwright driving Debian's
``/usr/bin/chromium``) once its widgets are drawn and MathJax has typeset every formula, bound
into one file with pypdf, one bookmark per page.
"""
from __future__ import annotations

import base64
import functools
import html
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from ..errors import CourseError
from . import vendor

VENDOR = {
    "mathjax": "2.7.9",
    "requirejs": "2.3.7",
    "@jupyter-widgets/html-manager": "1.0.15",
}
SKIP = {"mathjax": (*vendor.MATHJAX2_SKIP, "localization/", "extensions/a11y/"),
        "@jupyter-widgets/html-manager": ("lib/", "src/", "dist/embed.js", "dist/libembed.js")}
TITLE = "Multilevel models, interactively"
EXPLORATION_MARK = "controls that move when the notebook runs in JupyterLab"
CHROMIUM = "/usr/bin/chromium"
MATHJAX_IDLE = ("() => !window.MathJax || (MathJax.Hub && MathJax.Hub.queue.pending === 0 "
                "&& MathJax.Hub.queue.running === 0)")

CONF = '''# written by mlmcourse.tools.book: the configuration of the course's web book
project = {title!r}
author = "mlmcourse"
copyright = "the course's authors"
language = "en"
extensions = ["myst_nb"]
master_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_title = {title!r}
html_static_path = ["_static"]
html_css_files = ["mlmcourse-book.css"]
html_js_files = ["mlmcourse-book.js"]
html_favicon = "_static/favicon.svg"
html_theme_options = {{
    "show_navbar_depth": 1,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "home_page_in_toc": True,
}}
html_context = {{"default_mode": "light"}}
html_last_updated_fmt = None
html_show_sourcelink = False
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"]
# offline: MathJax 2 and the widget manager from _static/vendor (relative to _static)
mathjax_path = "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML"
mathjax2_config = {{
    "tex2jax": {{"inlineMath": [["\\\\(", "\\\\)"], ["$", "$"]], "displayMath": [["\\\\[", "\\\\]"], ["$$", "$$"]],
                "processEscapes": True, "ignoreClass": "document|tex2jax_ignore|mathjax_ignore",
                "processClass": "math|output_area|widget-html-content|tex2jax_process|mathjax_process"}},
    "messageStyle": "none",
    "menuSettings": {{"zoom": "None"}},
}}
nb_ipywidgets_js = {{
    "vendor/requirejs/require.js": {{}},
    "vendor/@jupyter-widgets/html-manager/dist/embed-amd.js": {{"data-jupyter-widgets-cdn": "_static/vendor/",
                                                               "data-jupyter-widgets-cdn-only": "true"}},
}}
'''

CSS = """/* the course's web book: figures as wide as the text, readable projected */
.mlm-figure { max-width: 100%; height: auto; }
.mlm-exploration-note { color: #444; font-style: italic; margin: 0.3em 0 0.8em; }
/* the widget manager's coloured buttons (e.g. #2196f3 under white text) are below WCAG's 4.5:1;
   its CSS comes later (injected when the widgets render), so these need one more class */
.jupyter-button.widget-button.mod-primary { background-color: #1565c0; }
.jupyter-button.widget-button.mod-success { background-color: #2e7d32; }
.jupyter-button.widget-button.mod-info { background-color: #00707f; }
.jupyter-button.widget-button.mod-warning { background-color: #a75400; }
.jupyter-button.widget-button.mod-danger { background-color: #c62828; }
/* on paper nothing scrolls: long code lines and wide formulas wrap instead of being cut off */
@media print {
  pre, div.highlight pre, .cell_output pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  div.highlight, .cell_output, .output { overflow: visible !important; }
  .MathJax_Display, .MathJax_CHTML, .math { max-width: 100%; white-space: normal !important; }
}
"""

# The widget manager draws a slider's handle (role="slider") without an accessible name; give it
# the slider's label, as JupyterLab's screen-reader users would hear it.
JS = """document.addEventListener("DOMContentLoaded", () => {
  const name = () => document.querySelectorAll(".widget-slider, .widget-hslider, .widget-vslider").forEach(w => {
    const label = w.querySelector(".widget-label");
    const text = label && label.textContent.trim();
    w.querySelectorAll('[role="slider"]').forEach(h => {
      if (!h.getAttribute("aria-label") && !h.getAttribute("aria-labelledby")) {
        h.setAttribute("aria-label", text || "slider");
      }
    });
  });
  new MutationObserver(name).observe(document.body, {childList: true, subtree: true});
  name();
});
"""


# three nested circles: students in classrooms in schools
FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="15" fill="#0173b2"/>'
           '<circle cx="16" cy="16" r="9.5" fill="#fff"/><circle cx="16" cy="16" r="4.5" fill="#de8f05"/></svg>\n')


def notebooks_in(src: Path) -> list[Path]:
    """Return the course notebooks (NN_name.ipynb) in ``src``, in order; refuse a folder with none."""
    found = sorted(p for p in Path(src).glob("*.ipynb") if p.name[:2].isdigit())
    if not found:
        raise CourseError(f"No course notebooks (NN_name.ipynb) in {src}: nothing to put in the book.")
    return found


def _title(nb: dict, fallback: str) -> str:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return nb.get("metadata", {}).get("title") or fallback


def _img(mime: str, data, alt: str) -> str:
    payload = data if isinstance(data, str) else "".join(data)
    if mime == "image/svg+xml":
        payload = base64.b64encode(payload.encode("utf-8")).decode("ascii")
    payload = payload.replace("\n", "")
    return f'<img class="mlm-figure" src="data:{mime};base64,{payload}" alt="{html.escape(alt, quote=True)}"/>'


def stage_notebook(nb: dict, name: str) -> dict:
    """Return the notebook as the book shows it (see the module's docstring); ``nb`` is not changed."""
    nb = json.loads(json.dumps(nb))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            image = next((m for m in ("image/png", "image/jpeg", "image/svg+xml") if m in data), None)
            alt = (out.get("metadata", {}).get(image) or {}).get("alt") if image else None
            if image and alt:
                out = {**out, "data": {"text/html": _img(image, data[image], alt),
                                       "text/plain": data.get("text/plain", alt)}, "metadata": {}}
            outputs.append(out)
            if EXPLORATION_MARK in "".join(data.get("text/plain", "")):
                outputs.append({"output_type": "display_data", "metadata": {}, "data": {
                    "text/html": '<p class="mlm-exploration-note">These controls move the figure below when the '
                                 "notebook runs in JupyterLab; on this page they show it as the course drew it.</p>",
                    "text/plain": "(the controls move the figure when the notebook runs in JupyterLab)"}})
        cell["outputs"] = outputs
    note = ("```{admonition} Run this page yourself\n:class: tip\n"
            f"This page is the notebook `notebooks/{name}` with its outputs. To change and run it, open the "
            "course in JupyterLab (`make lab`, or `uv run mlmcourse lab` without make; see the README) and "
            f"open `{name}`: there the code runs, the sliders move the figures and the quiz keeps your "
            "answers.\n```\n")
    cells = nb.get("cells", [])
    at = 1 if cells and cells[0].get("cell_type") == "markdown" else 0      # after the page's title
    cells.insert(at, {"cell_type": "markdown", "metadata": {}, "source": note})
    return nb


def stage(src: Path, staging: Path, cache: Path | None = None) -> list[Path]:
    """Write the book's sources (staged notebooks, index, conf.py, CSS) into ``staging``."""
    notebooks = notebooks_in(src)
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "_static").mkdir(parents=True)
    entries = []
    for path in notebooks:
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CourseError(f"{path.name} is not a readable notebook ({exc}); fix or re-execute it.") from None
        (staging / path.name).write_text(json.dumps(stage_notebook(nb, path.name), indent=1), encoding="utf-8")
        entries.append((path.stem, _title(nb, path.stem)))
    toc = "\n".join(stem for stem, _ in entries)
    listing = "\n".join(f"- [{t}]({stem}.ipynb)" for stem, t in entries)
    (staging / "index.md").write_text(
        f"# {TITLE}\n\nA course on multilevel (mixed-effects) models in Python, following the handout "
        "*Chapter 2: MLM conceptualization* (R, lme4 and lmerTest) step by step. These pages are the "
        "course's notebooks as they were run; read them here, then run them yourself in JupyterLab "
        "(`make lab`, or `uv run mlmcourse lab`), where the code, the sliders and the quiz work.\n\n"
        f"{listing}\n\n```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{toc}\n```\n", encoding="utf-8")
    (staging / "conf.py").write_text(CONF.format(title=TITLE), encoding="utf-8")
    (staging / "_static" / "mlmcourse-book.css").write_text(CSS, encoding="utf-8")
    (staging / "_static" / "favicon.svg").write_text(FAVICON, encoding="utf-8")
    (staging / "_static" / "mlmcourse-book.js").write_text(JS, encoding="utf-8")
    vendor.fetch_vendor(staging / "_static" / "vendor", cache, VENDOR, SKIP, what="the web book")
    return notebooks


def _sphinx(builder: str, staging: Path, out: Path) -> None:
    cmd = [sys.executable, "-m", "sphinx", "-b", builder, "-q", "-j", "1", "-d", str(staging / "_doctrees"),
           str(staging), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise CourseError(f"Sphinx could not build the book ({builder}): {done.stderr.strip()[-1500:]}")


def check_offline(out: Path) -> None:
    """Check that no page of the book loads anything from another host; else name each reference."""
    bad = []
    for page in out.rglob("*.html"):
        bad += [f"{page.relative_to(out)}: {r}" for r in vendor.remote_refs(page)]
    if bad:
        raise CourseError(f"The book would load {len(bad)} file(s) from other hosts: " + "; ".join(bad[:5])
                          + ". Every page must work offline.")


def build(src: Path, out: Path, cache: Path | None = None) -> Path:
    """Build the web book of the notebooks in ``src`` into ``out``; return ``out/index.html``."""
    src, out = Path(src), Path(out)
    staging = out.parent / (out.name + "-src")
    stage(src, staging, cache)
    if out.exists():
        shutil.rmtree(out)
    _sphinx("html", staging, out)
    _widget_fonts(staging, out)
    check_offline(out)
    return out / "index.html"


def _widget_fonts(staging: Path, out: Path) -> None:
    """Give the widget manager its icon fonts where it looks: ``@jupyter-widgets/`` at the book's root.

    It finds them beside its AMD module's id, ``@jupyter-widgets/``, which require.js resolves
    against the page.
    """
    dist = staging / "_static" / "vendor" / "@jupyter-widgets" / "html-manager" / "dist"
    target = out / "@jupyter-widgets"
    target.mkdir(exist_ok=True)
    for font in dist.iterdir():
        if font.suffix in (".woff2", ".woff", ".ttf", ".eot", ".svg"):
            shutil.copyfile(font, target / font.name)


def build_pdf(out: Path, browser=None) -> Path:
    """Print the built book to ``out/mlmcourse.pdf`` with Chromium.

    Every page of the built book, in reading order, with its saved widgets drawn and its math
    typeset, bound into one file.
    """
    out = Path(out)
    if not (out / "index.html").is_file():
        raise CourseError("Build the web book first (`make book`): the PDF is printed from its pages.")
    order = ["index.html"] + [f"{p.stem}.html" for p in sorted(out.glob("[0-9][0-9]_*.html"))]
    target = out / "mlmcourse.pdf"
    if browser is not None:
        _print_all(browser, out, order, target)
        return target
    if not Path(CHROMIUM).exists():
        raise CourseError("The PDF is printed by Chromium: install Debian's `chromium` (apt-get install chromium) "
                          "and run `make pdf` again.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise CourseError("The PDF needs Playwright (a test extra): `pip install -e .[test]`, "
                          "then `make pdf`.") from None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            _print_all(browser, out, order, target)
        finally:
            browser.close()
    return target


def _print_all(browser, out: Path, order: list[str], target: Path) -> None:
    """Print every page, served over loopback, once its widgets are drawn and its math typeset.

    Loopback, because the widget manager's require.js does not load from file://.
    """
    from pypdf import PdfWriter

    handler = functools.partial(_Quiet, directory=str(out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    writer = PdfWriter()
    parts = out.parent / (out.name + "-pdf")
    parts.mkdir(exist_ok=True)
    try:
        for name in order:
            part = parts / (name + ".pdf")
            _print_page(browser, f"http://127.0.0.1:{httpd.server_address[1]}/{name}", part)
            writer.append(str(part), outline_item=name.removesuffix(".html"))
        with open(target, "wb") as f:
            writer.write(f)
    finally:
        httpd.shutdown()
        shutil.rmtree(parts, ignore_errors=True)


def _print_page(browser, url: str, target: Path) -> None:
    tab = browser.new_page()
    try:
        tab.goto(url, wait_until="load")
        tab.wait_for_function("""() => {
            const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
            return views === 0 || document.querySelectorAll('.jupyter-widgets').length > 0; }""", timeout=120_000)
        tab.wait_for_timeout(1500)
        tab.wait_for_function(MATHJAX_IDLE, timeout=120_000)
        tab.emulate_media(media="print")
        tab.pdf(path=str(target), format="A4", print_background=True,
                margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"})
    finally:
        tab.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _run(args) -> int:
    index = build(Path(args.src), Path(args.out))
    print(f"web book: {index} (open it, or serve {args.out}/ with `python -m http.server`; works offline)")
    if args.pdf:
        print(f"PDF: {build_pdf(Path(args.out))}")
    return 0


def add_parser(sub) -> None:
    """Register ``book`` with the course's command line (``python -m mlmcourse book``)."""
    p = sub.add_parser("book", help="build the offline web book (and, with --pdf, a printable PDF)")
    p.add_argument("--src", default="notebooks", help="the notebooks folder")
    p.add_argument("--out", default=os.path.join("build", "book"), help="output folder")
    p.add_argument("--pdf", action="store_true", help="also print build/book/mlmcourse.pdf with Chromium")
    p.set_defaults(func=_run)

