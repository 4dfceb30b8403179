"""JavaScript libraries from the npm registry, vendored at build time, and the offline check.

The check that a page loads nothing from another host (the offline slides and the offline web book).

``npm pack`` fetches each package once into the per-user cache folder
(``mlmcourse.userfiles.cache_dir("npm")``); builds unpack it from there.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from html.parser import HTMLParser
from pathlib import Path

from ..errors import CourseError
from ..userfiles import cache_dir

# MathJax 2's package holds many fonts and the unpacked sources; the CHTML output needs none of these
MATHJAX2_SKIP = ("unpacked/", "test/", "fonts/HTML-CSS/Asana-Math", "fonts/HTML-CSS/Gyre",
                 "fonts/HTML-CSS/Latin-Modern", "fonts/HTML-CSS/Neo-Euler", "fonts/HTML-CSS/STIX",
                 "fonts/HTML-CSS/TeX/eot", "fonts/HTML-CSS/TeX/otf", "fonts/HTML-CSS/TeX/svg",
                 "fonts/HTML-CSS/TeX/png")


def tarball_name(name: str, version: str) -> str:
    """Return the file ``npm pack`` writes: ``@scope/pkg`` 1.0 -> ``scope-pkg-1.0.tgz``."""
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def fetch_vendor(dest: Path, cache: Path | None = None, packages: dict[str, str] | None = None,
                 skip: dict[str, tuple] | None = None, what: str = "the slides") -> Path:
    """Unpack npm packages (name -> version) into ``dest/<name>`` (npm pack, cached per user)."""
    cache = Path(cache) if cache else cache_dir("npm")
    cache.mkdir(parents=True, exist_ok=True)
    for name, version in (packages or {}).items():
        target = dest / name
        stamp = target / ".mlmcourse-version"
        if stamp.is_file() and stamp.read_text() == version:
            continue
        tgz = cache / tarball_name(name, version)
        if not tgz.is_file():
            _npm_pack(f"{name}@{version}", cache, what)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        _extract(tgz, target, (skip or {}).get(name, ()))
        stamp.write_text(version)
    return dest


def _npm_pack(spec: str, cache: Path, what: str = "the slides") -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise CourseError(f"Building {what} offline needs `npm` (Node.js) to fetch {spec} once from the npm "
                          "registry. Install Node.js (Debian: apt-get install npm) and build again.")
    proc = subprocess.run([npm, "pack", spec, "--pack-destination", str(cache), "--silent"],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise CourseError(f"`npm pack {spec}` failed ({proc.stderr.strip()[-300:]}). {what.capitalize()} need it "
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
# -- remote references -----------------------------------------------------------------------
REMOTE = re.compile(r"^\s*(https?:)?//", re.I)
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.I)
JS_URL = re.compile(r"""['"]((?:https?:)?//[^'"\s]+)['"]""", re.I)


class _Refs(HTMLParser):
    LOADING = frozenset({("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"), ("source", "src"),
                         ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data"),
                         ("input", "src")})

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


