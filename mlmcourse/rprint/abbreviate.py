"""R's ``abbreviate()`` (its default method, "left.kept"), as lme4 uses it.

For the headers of "Correlation of Fixed Effects": ``abbreviate(names, minlength = 11)`` for the
rows and ``minlength = 6`` for the columns.

One name is shortened in R's stages, each from the right end and never touching the first
character: lower-case vowels that end a word, then the other lower-case vowels not starting a
word, then lower-case letters that end a word, then the other lower-case letters not starting a
word, then any character not starting a word; spaces are removed last. Each stage stops as soon
as the name is short enough. Over a vector, names whose abbreviations collide are abbreviated
again with ``minlength`` one longer, until all differ ("N0.2:VM" and "N0.2:VV", not "N0.2:V").
ASCII names only follow R exactly (R warns for others too).
"""
from __future__ import annotations

_VOWELS = "aeiou"


def _lower(c: str) -> bool:
    return "a" <= c <= "z"


def _space(c: str) -> bool:
    return c in " \t\n\r\f\v"


def abbreviate_one(name: str, minlength: int) -> str:
    """Abbreviate one name as R's C routine does (``stripchars``, use.classes = TRUE)."""
    s = list(name)
    if len(s) < minlength:
        return name
    nspace, done = _drop_trailing_spaces(s, minlength)
    if not done:
        _drop_by_class(s, nspace, minlength)
    if len(s) > minlength:  # inner spaces go last
        s = [c for i, c in enumerate(s) if i == 0 or not _space(c)]
    return "".join(s)


def _drop_trailing_spaces(s: list[str], minlength: int) -> tuple[int, bool]:
    """Delete the trailing spaces of ``s`` (in place); return the inner spaces counted, and whether it is short enough.

    R walks from the end: trailing spaces go, inner ones are counted (they go last), and the walk
    stops as soon as the name, its inner spaces not counted, is short enough.
    """
    nspace = 0
    trailing = True
    for i in range(len(s) - 1, 0, -1):
        if _space(s[i]):
            if trailing:
                del s[i]
            else:
                nspace += 1
        else:
            trailing = False
        if len(s) - nspace <= minlength:
            return nspace, True
    return nspace, False


def _drop_by_class(s: list[str], nspace: int, minlength: int) -> None:
    """Delete characters of ``s`` (in place) by R's classes, from the end, until it is short enough.

    In turn: vowels ending a word, other vowels not starting one, lower-case letters ending a
    word, other lower-case letters not starting one, then any character not starting a word.
    """
    def first(i: int) -> bool:   # the first character of a word
        return _space(s[i - 1])

    def last(i: int) -> bool:    # the last character of a word
        return not _space(s[i - 1]) and (i + 1 >= len(s) or _space(s[i + 1]))

    stages = [lambda i: s[i] in _VOWELS and last(i), lambda i: s[i] in _VOWELS and not first(i),
              lambda i: _lower(s[i]) and last(i), lambda i: _lower(s[i]) and not first(i),
              lambda i: not first(i) and not _space(s[i])]
    for drop in stages:
        for i in range(len(s) - 1, 0, -1):
            if i < len(s) and drop(i):
                del s[i]
            if len(s) - nspace <= minlength:
                return


def abbreviate(names: list[str], minlength: int = 4) -> list[str]:
    """R's ``abbreviate(names, minlength)``: unique abbreviations of unique names."""
    names = [str(n).strip(" ") for n in names]
    unique = list(dict.fromkeys(names))
    out = list(unique)
    redo = [True] * len(unique)
    length = minlength
    while True:
        for i, again in enumerate(redo):
            if again:
                out[i] = abbreviate_one(unique[i], length)
        seen, dup = set(), [False] * len(out)
        for i, a in enumerate(out):
            dup[i] = a in seen
            seen.add(a)
        if not any(dup):
            break
        length += 1
        clash = {out[i] for i in range(len(out)) if dup[i]}
        redo = [d or a in clash for d, a in zip(dup, out)]
    lookup = dict(zip(unique, out))
    return [lookup[n] for n in names]
