"""Offline reveal.js slides of the chapter notebooks (``make slides``).

    python -m mlmcourse.slides notebooks build/slides

For every notebook in the source folder this writes ``<name>.slides.html`` and an
``index.html``. Nothing is loaded from the internet when the slides are shown: reveal.js,
MathJax 2 (which nbconvert's reveal template drives), require.js and jQuery are fetched once at
build time from the npm registry (``npm pack``, cached in the per-user cache folder,
``mlmcourse.userfiles.cache_dir("npm")``), unpacked into
``<out>/vendor/`` and referenced by relative URLs; the template's other remote pieces (the
mermaid module, the widget manager) are removed. The build fails if any remote reference is left.

Slides: a new slide at every ``#``/``##`` heading, a sub-slide (down arrow) at ``###`` headings
and for every figure, which is shown large; long stretches are split. Slideshow metadata set by
the author (JupyterLab's property inspector / RISE) is kept: 'skip', 'notes' or 'fragment' cells
as they are, and a notebook with its own 'slide'/'subslide' marks keeps all of its breaks.
"""
from __future__ import annotations

import copy
import html
import re
from pathlib import Path

from ..errors import CourseError
from . import vendor
from .vendor import loaded_refs, remote_refs  # noqa: F401  (the slides' own check, used by the tests)

# npm package -> (version, files of the package kept; None = all but the excluded prefixes)
VENDOR = {
    "reveal.js": "5.2.1",
    "mathjax": "2.7.9",
    "requirejs": "2.3.7",
    "jquery": "3.7.1",
}
_SKIP = {"mathjax": vendor.MATHJAX2_SKIP}
URLS = {
    "reveal_url_prefix": "vendor/reveal.js",
    "mathjax_url": "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    "require_js_url": "vendor/requirejs/require.js",
    "jquery_url": "vendor/jquery/dist/jquery.min.js",
}
MAX_CHARS_PER_SLIDE = 1500
MAX_CELLS_PER_SLIDE = 4

TEMPLATE = r"""{%- extends 'reveal/index.html.j2' -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{#- nbconvert's image block ignores the alt text the course keeps in the output's metadata: add it -#}
{% block data_png scoped %}
{%- set alt = output | get_metadata('alt', 'image/png') -%}
{%- if alt -%}{{ super() | replace('<img ', '<img alt="' ~ (alt | escape_html) ~ '" ', 1) }}
{%- else -%}{{ super() }}{%- endif -%}
{% endblock data_png %}
{%- block html_head_css -%}
<style type="text/css">
/* figures large: a figure has its own sub-slide and fills it */
.reveal .jp-RenderedImage { width: 100%; }
.reveal .jp-RenderedImage img { width: 100%; height: 470px; object-fit: contain; object-position: left center; }
.reveal .jp-OutputArea-output pre { font-size: 0.7em; }
.reveal section { text-align: left; }
.mlm-widget-note { color: #666; font-style: italic; }
</style>
{%- endblock html_head_css -%}
"""


def _heading_level(source: str) -> int:
    m = re.match(r"\s*(#{1,6})\s", source)
    return len(m.group(1)) if m else 0


def _has_figure(cell) -> bool:
    return any(k.startswith("image/") for o in cell.get("outputs", []) for k in o.get("data", {}))


def _size(cell) -> int:
    n = len(cell.get("source", ""))
    for o in cell.get("outputs", []):
        n += len(str(o.get("text", "") or o.get("data", {}).get("text/plain", "")))
    return n


def prepare(nb):
    """Return a copy of the notebook ready for slides: slide breaks, no interactive widgets."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            _for_the_audience(cell)

    def own(cell):
        return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")

    if any(own(c) in ("slide", "subslide") for c in nb.cells):
        return nb  # the author placed the slide breaks (JupyterLab's property inspector / RISE)
    _place_slide_breaks(nb.cells, own)
    return nb


def _for_the_audience(cell) -> None:
    """Strip a code cell (in place) of nbval's markers, and show its widgets as a note."""
    # test markers (# NBVAL_CHECK_OUTPUT ...) are for nbval, not for the audience
    cell.source = "\n".join(ln for ln in cell.source.splitlines()
                            if not ln.lstrip().startswith("# NBVAL_"))
    outputs = []
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        if "application/vnd.jupyter.widget-view+json" in data:
            o = copy.deepcopy(o)
            o["data"] = {"text/html": '<p class="mlm-widget-note">(interactive: open this notebook in '
                                      "JupyterLab to use it)</p>",
                         "text/plain": "(interactive widget)"}
        outputs.append(o)
    cell["outputs"] = outputs


def _place_slide_breaks(cells, own) -> None:
    """Set each cell's slide type (in place): a slide at a level 1-2 heading, a subslide when one fills.

    A subslide also starts at a level 3+ heading and at a figure; a cell whose type the author
    set (``own(cell)``, e.g. 'skip', 'fragment', 'notes') keeps it.
    """
    chars = count = 0
    for i, cell in enumerate(cells):
        if own(cell):  # e.g. 'skip', 'fragment', 'notes' set by the author: kept
            if own(cell) not in ("skip", "notes"):
                chars += _size(cell)
                count += 1
            continue
        level = _heading_level(cell.source) if cell.cell_type == "markdown" else 0
        if i == 0 or level in (1, 2):
            kind = "slide"
        elif level >= 3 or _has_figure(cell) or chars > MAX_CHARS_PER_SLIDE or count >= MAX_CELLS_PER_SLIDE:
            kind = "subslide"
        else:
            kind = "-"
        if kind != "-":
            chars = count = 0
        chars += _size(cell)
        count += 1
        cell.metadata["slideshow"] = {"slide_type": kind}


# -- building --------------------------------------------------------------------------------
def exporter():
    """Return nbconvert's slides exporter with the course's settings: local URLs (URLS), theme and template."""
    from jinja2 import DictLoader
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    c = Config()
    for key, value in URLS.items():
        section = "SlidesExporter"
        setattr(c[section], key, value)
    c.SlidesExporter.reveal_theme = "white"      # 'simple' imports a web font
    c.SlidesExporter.reveal_scroll = True
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.exclude_anchor_links = True
    return SlidesExporter(config=c, extra_loaders=[DictLoader({"mlm_slides.html.j2": TEMPLATE})],
                          template_file="mlm_slides.html.j2")


def build(src: Path, out: Path, cache: Path | None = None) -> list[Path]:
    """Slides of every notebook in ``src`` (a folder or one .ipynb) into ``out``."""
    import nbformat

    src, out = Path(src), Path(out)
    notebooks = sorted(src.glob("*.ipynb")) if src.is_dir() else [src]
    if not notebooks:
        raise CourseError(f"No notebooks (*.ipynb) in {src}: nothing to turn into slides.")
    out.mkdir(parents=True, exist_ok=True)
    vendor.fetch_vendor(out / "vendor", cache, VENDOR, _SKIP)
    ex = exporter()
    written = []
    for nb_path in notebooks:
        try:
            nb = nbformat.read(nb_path, as_version=4)
        except Exception as exc:
            raise CourseError(f"{nb_path.name} is not a readable notebook ({exc}).") from None
        body, _ = ex.from_notebook_node(prepare(nb), resources={"metadata": {"name": nb_path.stem}})
        target = out / f"{nb_path.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        bad = remote_refs(target)
        if bad:
            raise CourseError(f"{target.name} would load {len(bad)} remote file(s) in class: "
                              + "; ".join(bad[:5]) + ". The slides must work offline.")
        written.append(target)
    _index(out, written)
    return written


def _index(out: Path, decks: list[Path]) -> None:
    decks = sorted(set(decks) | set(out.glob("*.slides.html")))  # also decks of earlier builds
    items = "\n".join(f'<li><a href="{html.escape(p.name)}">{html.escape(p.name.removesuffix(".slides.html"))}</a></li>'
                      for p in decks)
    (out / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Course slides</title></head>"
        f"<body><h1>Course slides</h1><p>Open a deck; arrows move, Esc shows the overview.</p><ul>\n{items}\n</ul>"
        "</body></html>\n", encoding="utf-8")


def _run(args) -> int:
    decks = build(Path(args.src), Path(args.out))
    for d in decks:
        print(d)
    print(f"{len(decks)} slide deck(s) in {args.out}/ (open index.html; works offline)")
    return 0


def add_parser(sub) -> None:
    """Register ``slides`` with the course's command line (``python -m mlmcourse slides``)."""
    p = sub.add_parser("slides", help="build offline reveal.js slides of the notebooks")
    p.add_argument("src", nargs="?", default="notebooks", help="notebook folder or file")
    p.add_argument("out", nargs="?", default="build/slides", help="output folder")
    p.set_defaults(func=_run)
