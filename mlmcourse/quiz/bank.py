"""Question banks: YAML data files (``mlmcourse/quiz/questions/chapterNN.yml``), read and checked.

An instructor adds a question by editing the YAML file, no Python needed; the format is described
in ``mlmcourse/quiz/questions/README.md``. Fields that would spoil the quiz (model answers, key points,
correct answers, explanations) are stored base64-encoded with a ``b64:`` prefix, so that opening
the file does not show them (no security, just no spoilers). Plain text is accepted too, and

    python -m mlmcourse quiz encode mlmcourse/quiz/questions/chapter02.yml   # encode plain fields
    python -m mlmcourse quiz decode mlmcourse/quiz/questions/chapter02.yml   # print them readable

switch between the two. A malformed question raises ``CourseError`` naming the file, the question
id and the problem.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import CourseError

QUESTIONS_DIR = Path(__file__).resolve().parent / "questions"
PREFIX = "b64:"
KINDS = ("open", "choice", "numeric")
# Fields holding solutions: encoded in the file. Lists are encoded item by item.
SECRET_FIELDS = ("model_answer", "key_points", "answer", "explanation", "choice_feedback")
SECRET_MISTAKE_FIELDS = ("message",)


# -- encoding --------------------------------------------------------------------------------
def encode_text(text) -> str:
    text = str(text)
    if text.startswith(PREFIX):
        return text
    return PREFIX + base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_text(value, where: str = "") -> str:
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return value if not isinstance(value, (int, float)) else str(value)
    try:
        return base64.b64decode(value[len(PREFIX):].encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise CourseError(
            f"{where}: the encoded text '{value[:24]}...' is damaged (not valid base64). "
            "Re-encode the plain text with `python -m mlmcourse quiz encode FILE`."
        ) from None


def _map_secrets(raw: dict, fn) -> dict:
    """Apply ``fn`` to every secret field of every question of a raw bank (in place)."""
    for section in raw.get("sections") or []:
        for q in (section or {}).get("questions") or []:
            if not isinstance(q, dict):
                continue
            for key in SECRET_FIELDS:
                if key not in q or q[key] is None:
                    continue
                if isinstance(q[key], list):
                    q[key] = [fn(v) if v is not None else None for v in q[key]]
                else:
                    q[key] = fn(q[key])
            for m in q.get("mistakes") or []:
                if isinstance(m, dict):
                    for key in SECRET_MISTAKE_FIELDS:
                        if m.get(key) is not None:
                            m[key] = fn(m[key])
    return raw


HEADER = (
    "# Question bank of the mlmcourse quiz (format: mlmcourse/quiz/questions/README.md).\n"
    "# Solution fields are base64-encoded ('b64:...'): write them as plain text, then run\n"
    "#   python -m mlmcourse quiz encode <this file>\n"
    "# and read them with `python -m mlmcourse quiz decode <this file>`.\n"
)


class _Dumper(yaml.SafeDumper):
    """Multi-line texts as readable ``|`` blocks (so the file stays editable by hand)."""


def _str_representer(dumper, value):
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def _dump(raw: dict) -> str:
    return HEADER + yaml.dump(raw, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def encode_file(path: Path) -> int:
    """Encode the plain secret fields of a bank file in place; return how many were encoded."""
    path = Path(path)
    raw = _read_yaml(path)
    count = 0

    def enc(v):
        nonlocal count
        if isinstance(v, str) and v.startswith(PREFIX):
            return v
        count += 1
        return encode_text(v)

    _map_secrets(raw, enc)
    load_bank(path, raw=yaml.safe_load(_dump(raw)))  # the encoded bank must still load
    path.write_text(_dump(raw), encoding="utf-8")
    return count


def decoded_text(path: Path) -> str:
    """The bank file with every secret field readable (for instructors)."""
    raw = _read_yaml(Path(path))
    _map_secrets(raw, lambda v: decode_text(v, str(path)))
    return yaml.dump(raw, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


# -- the bank's objects ----------------------------------------------------------------------
@dataclass
class Tolerance:
    value: float
    relative: bool = False

    def accepts(self, answer: float, target: float) -> bool:
        bound = abs(target) * self.value if self.relative else self.value
        return abs(answer - target) <= bound + 1e-12 * max(1.0, abs(target))

    def describe(self) -> str:
        if self.relative:
            return f"within {self.value * 100:g}% of the exact value"
        if self.value == 0:
            return "exactly"
        return f"within ±{self.value:g}"


@dataclass
class Mistake:
    message: str
    value: float | None = None
    expr: str | None = None
    tolerance: Tolerance | None = None


@dataclass
class Question:
    id: str
    kind: str
    prompt: str
    section: str
    title: str = ""
    model_answer: str = ""
    key_points: list = field(default_factory=list)
    choices: list = field(default_factory=list)
    answer: object = None            # choice: index; numeric: number (when no answer_expr)
    answer_expr: str | None = None   # numeric: name of a live computation (mlmcourse.quiz.live)
    tolerance: Tolerance | None = None
    explanation: str = ""
    choice_feedback: list = field(default_factory=list)
    mistakes: list = field(default_factory=list)
    companion_of: str | None = None
    variant: str | None = None       # asked on the student's own data ("bootstrap", "simulated")

    @property
    def auto(self) -> bool:
        return self.kind in ("choice", "numeric")


@dataclass
class Section:
    id: str
    title: str
    intro: str
    questions: list


@dataclass
class Bank:
    chapter: int
    title: str
    form: str
    sections: list
    path: Path

    @property
    def questions(self) -> list:
        return [q for s in self.sections for q in s.questions]

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise CourseError(f"The quiz of chapter {self.chapter} has no question '{qid}'.")

    def section(self, sid: str) -> Section:
        for s in self.sections:
            if s.id == sid:
                return s
        names = ", ".join(s.id for s in self.sections)
        raise CourseError(f"The quiz of chapter {self.chapter} has no section '{sid}' (it has: {names}).")


# -- reading and checking --------------------------------------------------------------------
def bank_path(chapter: int) -> Path:
    return QUESTIONS_DIR / f"chapter{int(chapter):02d}.yml"


def _read_yaml(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CourseError(f"The question bank {path} cannot be read ({exc.strerror}).") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" near line {mark.line + 1}" if mark is not None else ""
        raise CourseError(
            f"The question bank {Path(path).name} is not valid YAML{where}: "
            f"{getattr(exc, 'problem', None) or exc}. Check the indentation and quotes there."
        ) from None
    if not isinstance(raw, dict):
        raise CourseError(f"The question bank {Path(path).name} must be a YAML mapping with 'sections'.")
    return raw


def _tolerance(value, where: str) -> Tolerance:
    if isinstance(value, bool) or value is None:
        raise CourseError(f"{where}: 'tolerance' must be a number (absolute) or a percentage like '1%'.")
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return Tolerance(float(value.strip()[:-1]) / 100, relative=True)
        except ValueError:
            pass
    else:
        try:
            v = float(value)
            if v >= 0:
                return Tolerance(v)
        except (TypeError, ValueError):
            pass
    raise CourseError(f"{where}: 'tolerance' is '{value}'; write a number >= 0 (absolute) or a percentage like '1%'.")


def _number(text, where: str, what: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise CourseError(f"{where}: {what} is '{text}', which is not a number.") from None


PLACEHOLDER = re.compile(r"\[\[\s*([A-Za-z_]\w*)\s*(?::([^\]]*))?\]\]")


def placeholders(text: str) -> list[str]:
    """Names used as ``[[name]]`` or ``[[name:.2f]]`` in a text (live values from mlmcourse.quiz.live).

    Double square brackets, because LaTeX needs the braces."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text or "")]


def fill(text: str, value) -> str:
    """Replace every ``[[name:fmt]]`` by ``format(value(name), fmt)``."""
    def sub(m):
        v = value(m.group(1))
        return format(v, m.group(2) or ("" if not isinstance(v, float) else ".4g"))
    return PLACEHOLDER.sub(sub, text or "")


def load_bank(path: Path | None = None, chapter: int | None = None, raw: dict | None = None) -> Bank:
    """Read and check a question bank; ``chapter=2`` reads the packaged chapter02.yml."""
    from .live import COMPUTATIONS  # the names a bank may use for live answers

    if path is None:
        if chapter is None:
            raise CourseError("load_bank needs a chapter number or a file path.")
        path = bank_path(chapter)
    path = Path(path)
    name = path.name
    if raw is None:
        raw = _read_yaml(path)
    for key in ("chapter", "title", "sections"):
        if key not in raw:
            raise CourseError(f"The question bank {name} lacks the top-level field '{key}'.")
    if not isinstance(raw["sections"], list) or not raw["sections"]:
        raise CourseError(f"The question bank {name}: 'sections' must be a non-empty list.")
    seen: set[str] = set()
    sections = []
    for si, sraw in enumerate(raw["sections"], 1):
        if not isinstance(sraw, dict) or not sraw.get("id") or not isinstance(sraw.get("questions"), list):
            raise CourseError(f"The question bank {name}: section {si} needs an 'id' and a list of 'questions'.")
        questions = []
        for qi, qraw in enumerate(sraw["questions"], 1):
            questions.append(_question(qraw, str(sraw["id"]), qi, name, seen, COMPUTATIONS))
        sections.append(Section(str(sraw["id"]), str(sraw.get("title", sraw["id"])),
                                str(sraw.get("intro", "") or ""), questions))
    for q in (q for s in sections for q in s.questions):
        if q.companion_of and q.companion_of not in seen:
            raise CourseError(f"Question '{q.id}' in {name}: 'companion_of' names '{q.companion_of}', "
                              "which is not a question of this bank.")
    return Bank(int(raw["chapter"]), str(raw["title"]), str(raw.get("form", "Activity Form")), sections, path)


def _question(qraw, section: str, index: int, name: str, seen: set, computations) -> Question:
    if not isinstance(qraw, dict):
        raise CourseError(f"The question bank {name}: question {index} of section '{section}' is not a mapping.")
    qid = str(qraw.get("id") or "").strip()
    if not qid:
        raise CourseError(f"The question bank {name}: question {index} of section '{section}' has no 'id'.")
    where = f"Question '{qid}' in {name}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", qid):
        raise CourseError(f"{where}: the id may only use letters, digits, '-', '_' and '.'.")
    if qid in seen:
        raise CourseError(f"{where}: the id is used twice; every question needs its own id.")
    seen.add(qid)
    kind = qraw.get("kind")
    if kind not in KINDS:
        raise CourseError(f"{where}: 'kind' is '{kind}'; it must be one of {', '.join(KINDS)}.")
    prompt = qraw.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise CourseError(f"{where}: the 'prompt' (the question's text) is missing or empty.")
    dec = lambda v: decode_text(v, where)  # noqa: E731
    q = Question(id=qid, kind=kind, prompt=prompt.strip(), section=section,
                 title=str(qraw.get("title", "") or ""),
                 explanation=dec(qraw.get("explanation", "") or ""),
                 companion_of=qraw.get("companion_of"))
    known = {"id", "kind", "prompt", "title", "explanation", "companion_of", "model_answer",
             "key_points", "choices", "answer", "answer_expr", "tolerance", "choice_feedback", "mistakes",
             "variant"}
    unknown = sorted(set(qraw) - known)
    if unknown:
        raise CourseError(f"{where}: unknown field(s) {', '.join(unknown)} (check the spelling; "
                          "the fields are listed in mlmcourse/quiz/questions/README.md).")
    if "variant" in qraw:
        from .live import VARIANTS
        if qraw["variant"] not in VARIANTS:
            raise CourseError(f"{where}: 'variant' is '{qraw['variant']}'; it must be one of "
                              f"{', '.join(VARIANTS)} (the student's own data the question is asked on).")
        q.variant = qraw["variant"]
    if kind == "open":
        q.model_answer = dec(qraw.get("model_answer") or "")
        if not q.model_answer.strip():
            raise CourseError(f"{where}: an open question needs a 'model_answer'.")
        kp = qraw.get("key_points") or []
        if not isinstance(kp, list):
            raise CourseError(f"{where}: 'key_points' must be a list of short texts.")
        q.key_points = [dec(v) for v in kp]
    elif kind == "choice":
        choices = qraw.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise CourseError(f"{where}: a choice question needs a list of at least two 'choices'.")
        q.choices = [str(c) for c in choices]
        if "answer" not in qraw:
            raise CourseError(f"{where}: a choice question needs an 'answer' (the number of the right choice, from 1).")
        a = _number(dec(qraw["answer"]), where, "'answer'")
        if a != int(a) or not 1 <= a <= len(q.choices):
            raise CourseError(f"{where}: 'answer' is {a:g}, but the choices are numbered 1 to {len(q.choices)}.")
        q.answer = int(a) - 1
        fb = qraw.get("choice_feedback") or []
        if not isinstance(fb, list) or len(fb) not in (0, len(q.choices)):
            raise CourseError(f"{where}: 'choice_feedback' must list one text per choice ({len(q.choices)}).")
        q.choice_feedback = [dec(v) if v is not None else "" for v in fb]
    else:  # numeric
        has_value, has_expr = "answer" in qraw, "answer_expr" in qraw
        if has_value == has_expr:
            raise CourseError(f"{where}: a numeric question needs exactly one of 'answer' (a fixed number) "
                              "or 'answer_expr' (the name of a live computation).")
        if has_expr:
            expr = qraw["answer_expr"]
            if expr not in computations:
                raise CourseError(f"{where}: 'answer_expr' is '{expr}', which is not a known computation "
                                  f"(known: {', '.join(sorted(computations))}).")
            q.answer_expr = expr
            needed = computations[expr].variant
            if needed != q.variant:
                raise CourseError(
                    f"{where}: its answer '{expr}' is computed on "
                    + (f"the student's own data, so the question needs 'variant: {needed}'"
                       if needed else "the classroom data, so the question must not say "
                       f"'variant: {q.variant}'")
                    + " (the quiz marks such questions and the hand-in records the seed).")
        else:
            q.answer = _number(dec(qraw["answer"]), where, "'answer'")
        if "tolerance" not in qraw:
            raise CourseError(f"{where}: a numeric question needs a 'tolerance' (0 for an exact count).")
        q.tolerance = _tolerance(qraw["tolerance"], where)
        for mi, mraw in enumerate(qraw.get("mistakes") or [], 1):
            if not isinstance(mraw, dict) or not mraw.get("message") or ("value" in mraw) == ("expr" in mraw):
                raise CourseError(f"{where}: mistake {mi} needs a 'message' and exactly one of 'value' or 'expr'.")
            if "expr" in mraw and mraw["expr"] not in computations:
                raise CourseError(f"{where}: mistake {mi} uses the unknown computation '{mraw['expr']}'.")
            q.mistakes.append(Mistake(
                message=dec(mraw["message"]),
                value=_number(mraw["value"], where, f"mistake {mi}'s value") if "value" in mraw else None,
                expr=mraw.get("expr"),
                tolerance=_tolerance(mraw["tolerance"], where) if "tolerance" in mraw else q.tolerance))
    for text in [q.prompt, q.explanation, *q.choice_feedback, *(m.message for m in q.mistakes)]:
        for ph in placeholders(text):
            if ph not in computations:
                raise CourseError(f"{where}: the text uses '[[{ph}]]', which is not a known computation "
                                  f"(known: {', '.join(sorted(computations))}).")
    for ph in placeholders(q.prompt):
        if computations[ph].seeded:  # the prompt is also the static page and the hand-in: seed-free
            raise CourseError(f"{where}: the prompt uses '[[{ph}]]', which depends on the student's "
                              "seed; put it in the explanation or a mistake's message instead.")
    return q
