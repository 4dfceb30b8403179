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
import shutil
import subprocess
import tarfile
from html.parser import HTMLParser
from pathlib import Path

from ..errors import CourseError
from ..userfiles import cache_dir

# npm package -> (version, files of the package kept; None = all but the excluded prefixes)
VENDOR = {
    "reveal.js": "5.2.1",
    "mathjax": "2.7.9",
    "requirejs": "2.3.7",
    "jquery": "3.7.1",
}
_SKIP = {"mathjax": ("unpacked/", "test/", "fonts/HTML-CSS/Asana-Math", "fonts/HTML-CSS/Gyre",
                     "fonts/HTML-CSS/Latin-Modern", "fonts/HTML-CSS/Neo-Euler", "fonts/HTML-CSS/STIX",
                     "fonts/HTML-CSS/TeX/eot", "fonts/HTML-CSS/TeX/otf", "fonts/HTML-CSS/TeX/svg",
                     "fonts/HTML-CSS/TeX/png")}
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


# -- vendor libraries from the npm registry ------------------------------------------------
def fetch_vendor(dest: Path, cache: Path | None = None) -> Path:
    """Unpack reveal.js, MathJax, require.js and jQuery into ``dest`` (npm pack, cached)."""
    cache = Path(cache) if cache else cache_dir("npm")
    cache.mkdir(parents=True, exist_ok=True)
    for name, version in VENDOR.items():
        target = dest / name
        stamp = target / ".mlmcourse-version"
        if stamp.is_file() and stamp.read_text() == version:
            continue
        tgz = cache / f"{name}-{version}.tgz"
        if not tgz.is_file():
            _npm_pack(f"{name}@{version}", cache)
        if target.exists():
            shutil.rmtree(target)
        _extract(tgz, target, _SKIP.get(name, ()))
        stamp.write_text(version)
    return dest


def _npm_pack(spec: str, cache: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise CourseError("Building offline slides needs `npm` (Node.js) to fetch reveal.js and MathJax "
                          "once from the npm registry. Install Node.js (Debian: apt-get install npm) "
                          "and run `make slides` again.")
    proc = subprocess.run([npm, "pack", spec, "--pack-destination", str(cache), "--silent"],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise CourseError(f"`npm pack {spec}` failed ({proc.stderr.strip()[-300:]}). The slides need it "
                          "once, with access to the npm registry; later builds use the copy in the "
                          "per-user cache folder.")


def _extract(tgz: Path, target: Path, skip: tuple) -> None:
    tmp = target.with_name(target.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    with tarfile.open(tgz) as tar:
        members = []
        for m in tar.getmembers():
            if not m.name.startswith("package/") or not (m.isfile() or m.isdir()):
                continue
            rel = m.name[len("package/"):]
            if not rel or any(rel.startswith(s) for s in skip):
                continue
            m.name = rel
            members.append(m)
        tar.extractall(tmp, members=members, filter="data")
    tmp.rename(target)


# -- slide structure -------------------------------------------------------------------------
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
    """A copy of the notebook ready for slides: slide breaks, no interactive widgets."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
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
    def own(cell):
        return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")

    if any(own(c) in ("slide", "subslide") for c in nb.cells):
        return nb  # the author placed the slide breaks (JupyterLab's property inspector / RISE)
    chars = cells = 0
    for i, cell in enumerate(nb.cells):
        if own(cell):  # e.g. 'skip', 'fragment', 'notes' set by the author: kept
            if own(cell) not in ("skip", "notes"):
                chars += _size(cell)
                cells += 1
            continue
        level = _heading_level(cell.source) if cell.cell_type == "markdown" else 0
        if i == 0 or level in (1, 2):
            kind = "slide"
        elif level >= 3 or _has_figure(cell) or chars > MAX_CHARS_PER_SLIDE or cells >= MAX_CELLS_PER_SLIDE:
            kind = "subslide"
        else:
            kind = "-"
        if kind != "-":
            chars = cells = 0
        chars += _size(cell)
        cells += 1
        cell.metadata["slideshow"] = {"slide_type": kind}
    return nb


# -- remote references -----------------------------------------------------------------------
REMOTE = re.compile(r"^\s*(https?:)?//", re.I)
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.I)
JS_URL = re.compile(r"""['"]((?:https?:)?//[^'"\s]+)['"]""", re.I)


class _Refs(HTMLParser):
    LOADING = {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"), ("source", "src"),
               ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data"), ("input", "src")}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []     # (what, url) the browser fetches
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for t, attr in self.LOADING:
            if tag == t and a.get(attr):
                if tag == "link" and not set((a.get("rel") or "").lower().split()) & {
                        "stylesheet", "icon", "preload", "modulepreload", "prefetch", "manifest"}:
                    continue
                self.refs.append((f"<{tag} {attr}>", a[attr]))
        if a.get("style"):
            self.refs += [("style attribute", u) for u in CSS_URL.findall(a["style"])]
        self._in = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.refs += [("<style>", u) for u in CSS_URL.findall(data)]
        elif self._in == "script":
            self.refs += [("<script> code", u) for u in JS_URL.findall(data)]
            self.refs += [("<script> import", u) for u in re.findall(r"""import\s[^'"]*['"]([^'"]+)['"]""", data)]


def loaded_refs(html_text: str) -> list[tuple[str, str]]:
    """Every URL the page makes the browser fetch (tags, inline CSS, URLs in inline scripts)."""
    p = _Refs()
    p.feed(html_text)
    seen, refs = set(), []
    for what, url in p.refs:
        if url not in seen:
            seen.add(url)
            refs.append((what, url))
    return refs


def remote_refs(html_file: Path) -> list[str]:
    """Remote URLs the slides would load: in the HTML and in the local CSS files it links."""
    html_file = Path(html_file)
    bad = []
    for what, url in loaded_refs(html_file.read_text(encoding="utf-8")):
        if REMOTE.match(url):
            bad.append(f"{what}: {url}")
        elif what == "<link href>" and url.split("?")[0].endswith(".css"):
            css = (html_file.parent / url.split("?")[0]).resolve()
            if css.is_file():
                bad += [f"{css.name}: {u}" for u in _css_remote(css)]
    return bad


def _css_remote(css: Path, seen=None) -> list[str]:
    seen = seen if seen is not None else set()
    if css in seen:
        return []
    seen.add(css)
    out = []
    for u in CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace")):
        if REMOTE.match(u):
            out.append(u)
        elif u.endswith(".css") and (css.parent / u).is_file():
            out += _css_remote((css.parent / u).resolve(), seen)
    return out


# -- building --------------------------------------------------------------------------------
def exporter():
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
    fetch_vendor(out / "vendor", cache)
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
