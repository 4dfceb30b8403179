"""Question banks: YAML data files (``mlmcourse/quiz/questions/chapterNN.yml``), read and checked.

An instructor adds a question by editing the YAML file, no Python needed; the format is described
in ``mlmcourse/quiz/questions/README.md``. Fields that would spoil the quiz (model answers, key points,
correct answers, explanations) are stored base64-encoded with a ``b64:`` prefix, so that opening
the file does not show them (no security, just no spoilers). Plain text is accepted too, and

    python -m mlmcourse quiz encode mlmcourse/quiz/questions/chapter02.yml   # encode plain fields
    python -m mlmcourse quiz decode mlmcourse/quiz/questions/chapter02.yml   # print them readable

switch between the two. A bank is read as UTF-8 YAML that gives no key twice, and checked against
one JSON Schema (``questions/bank.schema.json``, through ``jsonschema``); a malformed question
raises ``CourseError`` naming the file, the question id, the field and what to write there.
"""
from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import CourseError
from .registry import COMPUTATIONS, VARIANTS

QUESTIONS_DIR = Path(__file__).resolve().parent / "questions"
PREFIX = "b64:"
KINDS = ("open", "choice", "numeric")
# Fields holding solutions: encoded in the file. Lists are encoded item by item.
SECRET_FIELDS = ("model_answer", "key_points", "answer", "explanation", "choice_feedback")
SECRET_MISTAKE_FIELDS = ("message",)


# -- encoding --------------------------------------------------------------------------------
def encode_text(text) -> str:
    """Encode a text as ``b64:...`` (a text already encoded is kept)."""
    text = str(text)
    if text.startswith(PREFIX):
        return text
    return PREFIX + base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_text(value, where: str = "") -> str:
    """Decode a ``b64:...`` text (plain text is kept, a number becomes its text)."""
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
            if isinstance(q, dict):
                _map_question_secrets(q, fn)
    return raw


def _map_question_secrets(q: dict, fn) -> None:
    """Apply ``fn`` to the secret fields of one question and of its mistakes (in place)."""
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
    """Give the bank file with every secret field readable (for instructors)."""
    raw = _read_yaml(Path(path))
    _map_secrets(raw, lambda v: decode_text(v, str(path)))
    return yaml.dump(raw, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


# -- the bank's objects ----------------------------------------------------------------------
@dataclass
class Tolerance:
    """How far an answer may be from the expected value: ``value``, or a share of it (relative)."""

    value: float
    relative: bool = False

    def accepts(self, answer: float, target: float) -> bool:
        """Tell whether ``answer`` is within the tolerance of ``target``."""
        bound = abs(target) * self.value if self.relative else self.value
        return abs(answer - target) <= bound + 1e-12 * max(1.0, abs(target))

    def describe(self) -> str:
        """Say the tolerance in words ("within ±0.05", "exactly")."""
        if self.relative:
            return f"within {self.value * 100:g}% of the exact value"
        if self.value == 0:
            return "exactly"
        return f"within ±{self.value:g}"


@dataclass
class Mistake:
    """A recognised slip: its message, and the value (or computation) that gives it away."""

    message: str
    value: float | None = None
    expr: str | None = None
    tolerance: Tolerance | None = None


@dataclass
class Question:
    """One question of a bank, as checked."""

    id: str
    kind: str
    prompt: str
    section: str
    title: str = ""
    model_answer: str = ""
    key_points: list = field(default_factory=list)
    choices: list = field(default_factory=list)
    answer: object = None            # choice: index; numeric: number (when no answer_expr)
    answer_expr: str | None = None   # numeric: name of a live computation (mlmcourse.quiz.registry)
    tolerance: Tolerance | None = None
    explanation: str = ""
    choice_feedback: list = field(default_factory=list)
    mistakes: list = field(default_factory=list)
    companion_of: str | None = None
    variant: str | None = None       # asked on the student's own data ("bootstrap", "simulated")

    @property
    def auto(self) -> bool:
        """Whether the quiz checks the answer itself (a choice or a number)."""
        return self.kind in ("choice", "numeric")


@dataclass
class Section:
    """A section of a bank: its questions, with a title and an introduction."""

    id: str
    title: str
    intro: str
    questions: list


@dataclass
class Bank:
    """A chapter's question bank, read from its file and checked."""

    chapter: int
    title: str
    form: str
    sections: list
    path: Path

    @property
    def questions(self) -> list:
        """Every question, in the bank's order."""
        return [q for s in self.sections for q in s.questions]

    def question(self, qid: str) -> Question:
        """Find the question with id ``qid``."""
        for q in self.questions:
            if q.id == qid:
                return q
        raise CourseError(f"The quiz of chapter {self.chapter} has no question '{qid}'.")

    def section(self, sid: str) -> Section:
        """Find the section with id ``sid``."""
        for s in self.sections:
            if s.id == sid:
                return s
        names = ", ".join(s.id for s in self.sections)
        raise CourseError(f"The quiz of chapter {self.chapter} has no section '{sid}' (it has: {names}).")


# -- reading and checking --------------------------------------------------------------------
def bank_path(chapter: int) -> Path:
    """Give the packaged bank file of a chapter."""
    return QUESTIONS_DIR / f"chapter{int(chapter):02d}.yml"


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML keeps the last one)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str) and key in seen:
                qid = next((v.value for k, v in node.value if getattr(k, "value", None) == "id"
                            and isinstance(v, yaml.ScalarNode)), None)
                where = f", in question '{qid}'" if qid else ""
                raise CourseError(
                    f"The question bank {Path(self.name).name} gives the key '{key}' twice in one place "
                    f"(lines {seen[key] + 1} and {key_node.start_mark.line + 1}){where}; YAML would silently "
                    "keep the last one. Delete the one you do not mean.")
            seen.setdefault(key, key_node.start_mark.line)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> dict:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CourseError(f"The question bank {path} cannot be read ({exc.strerror}).") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CourseError(
            f"The question bank {path.name} is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line} is not "
            "valid UTF-8; the file was probably saved as Latin-1 or Windows-1252): save it as UTF-8 (in your "
            "editor: Save As, encoding UTF-8) and load it again.") from None
    loader = _Loader(text)
    loader.name = str(path)
    try:
        raw = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" near line {mark.line + 1}" if mark is not None else ""
        raise CourseError(
            f"The question bank {path.name} is not valid YAML{where}: "
            f"{getattr(exc, 'problem', None) or exc}. Check the indentation and quotes there."
        ) from None
    finally:
        loader.dispose()
    if not isinstance(raw, dict):
        raise CourseError(f"The question bank {path.name} must be a YAML mapping with 'sections'.")
    return raw


def _tolerance(value) -> Tolerance:
    """Read a tolerance: a number >= 0, or a percentage such as '1%'."""
    if isinstance(value, str):
        return Tolerance(float(value.strip()[:-1]) / 100, relative=True)
    return Tolerance(float(value))


PLACEHOLDER = re.compile(r"\[\[\s*([A-Za-z_]\w*)\s*(?::([^\]]*))?\]\]")


def placeholders(text: str) -> list[str]:
    """Names used as ``[[name]]`` or ``[[name:.2f]]`` in a text (live values, mlmcourse.quiz.registry).

    Double square brackets, because LaTeX needs the braces.
    """
    return [m.group(1) for m in PLACEHOLDER.finditer(text or "")]


def fill(text: str, value) -> str:
    """Replace every ``[[name:fmt]]`` by ``format(value(name), fmt)``."""
    def sub(m):
        v = value(m.group(1))
        return format(v, m.group(2) or ("" if not isinstance(v, float) else ".4g"))
    return PLACEHOLDER.sub(sub, text or "")


SCHEMA_PATH = QUESTIONS_DIR / "bank.schema.json"


def schema() -> dict:
    """Give the bank's JSON Schema, with the names the course knows.

    The live computations and the variants are the enums of ``answer_expr``, a mistake's ``expr``
    and ``variant``.
    """
    out = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    names = sorted(COMPUTATIONS)
    props = out["$defs"]["question"]["properties"]
    props["answer_expr"]["enum"] = out["$defs"]["mistake"]["properties"]["expr"]["enum"] = names
    props["answer_expr"]["description"] = out["$defs"]["mistake"]["properties"]["expr"]["description"] = (
        "the name of a live computation (known: " + ", ".join(names) + ")")
    props["variant"]["enum"] = list(VARIANTS)
    props["variant"]["description"] = ("it must be one of " + ", ".join(VARIANTS)
                                       + " (the student's own data the question is asked on)")
    return out


def decoded_raw(path: Path | None = None, raw: dict | None = None) -> dict:
    """Read the bank from the file, its ``b64:`` fields decoded (an ``answer`` to its number)."""
    raw = copy.deepcopy(raw) if raw is not None else _read_yaml(Path(path))
    name = Path(path).name if path is not None else "the bank"
    for section in raw.get("sections") or []:
        questions = section.get("questions") if isinstance(section, dict) else None
        for qi, q in enumerate(questions if isinstance(questions, list) else [], 1):
            if isinstance(q, dict):
                where = _where(q, qi, section, name)
                _map_secrets({"sections": [{"questions": [q]}]}, lambda v, w=where: decode_text(v, w))
                if isinstance(q.get("answer"), str):
                    q["answer"] = _scalar(q["answer"])
    return raw


def _scalar(text: str):
    """Read a decoded answer: the number it writes, else the text (the schema then says what is wrong)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else text


def _where(q, index: int, section, name: str) -> str:
    qid = q.get("id") if isinstance(q, dict) else None
    if qid:
        return f"Question '{qid}' in {name}"
    sid = section.get("id") if isinstance(section, dict) else "?"
    return f"The question bank {name}: question {index} of section '{sid}'"


def _schema_error(raw: dict, name: str, error) -> CourseError:
    """One paragraph: the file, the question, the field and what to write there."""
    path = list(error.absolute_path)
    where, rest = f"The question bank {name}", path
    if len(path) >= 4 and path[0] == "sections" and path[2] == "questions":
        section = raw["sections"][path[1]]
        where, rest = _where(section["questions"][path[3]], path[3] + 1, section, name), path[4:]
    elif len(path) >= 2 and path[0] == "sections":
        where, rest = f"The question bank {name}: section {path[1] + 1}", path[2:]
    prefix = ""
    if len(rest) >= 2 and rest[0] == "mistakes" and isinstance(rest[1], int):
        prefix, rest = f"mistake {rest[1] + 1}: ", rest[2:]
    field = next((p for p in reversed(rest) if isinstance(p, str)), None)
    hint = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator == "required":
        missing = next(r for r in error.validator_value if r not in error.instance)
        what = f"the field '{missing}' is missing" + (f": {_describe(missing)}" if _describe(missing) else "")
    elif error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        what = (f"unknown field {', '.join(repr(e) for e in extra)} (check the spelling; the fields are listed "
                "in mlmcourse/quiz/questions/README.md)")
    elif error.validator == "oneOf" and isinstance(error.instance, dict):
        what = hint or error.message
    else:
        what = f"'{field}' is {error.instance!r}: {hint or _describe(field) or error.message}"
    return CourseError(f"{where}: {prefix}{what}.")


def _describe(field) -> str:
    props = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["$defs"]
    for kind in ("question", "mistake", "section"):
        hint = props[kind]["properties"].get(field, {}).get("description")
        if hint:
            return hint
    if field == "tolerance":
        return props["tolerance"]["description"]
    return ""


def _order(error):
    return [(0, p, "") if isinstance(p, int) else (1, 0, p) for p in error.absolute_path]


def load_bank(path: Path | None = None, chapter: int | None = None, raw: dict | None = None) -> Bank:
    """Read and check a question bank; ``chapter=2`` reads the packaged chapter02.yml.

    The bank is checked against one JSON Schema (:func:`schema`, ``questions/bank.schema.json``);
    what a schema cannot say (ids unique, an answer among the choices, the live values a text
    uses) is checked in :func:`_check`.
    """
    import jsonschema

    if path is None:
        if chapter is None:
            raise CourseError("load_bank needs a chapter number or a file path.")
        path = bank_path(chapter)
    path = Path(path)
    raw = decoded_raw(path, raw)
    errors = sorted(jsonschema.Draft202012Validator(schema()).iter_errors(raw), key=_order)
    if errors:
        first = [e for e in errors if _order(e)[:4] == _order(errors[0])[:4]]
        raise _schema_error(raw, path.name, jsonschema.exceptions.best_match(first))
    sections = [Section(str(s["id"]), str(s.get("title", s["id"])), str(s.get("intro") or ""),
                        [_question(q, str(s["id"])) for q in s["questions"]]) for s in raw["sections"]]
    bank = Bank(int(raw["chapter"]), str(raw["title"]), str(raw.get("form", "Activity Form")), sections, path)
    _check(bank, path.name, COMPUTATIONS)
    return bank


def _question(q: dict, section: str) -> Question:
    """Make a question from its schema-checked mapping."""
    tolerance = _tolerance(q["tolerance"]) if "tolerance" in q else None
    return Question(
        id=q["id"], kind=q["kind"], prompt=q["prompt"].strip(), section=section, title=str(q.get("title") or ""),
        model_answer=q.get("model_answer", ""), key_points=list(q.get("key_points") or []),
        choices=[str(c) for c in q.get("choices") or []],
        answer=(q["answer"] - 1 if q["kind"] == "choice" else float(q["answer"])) if "answer" in q else None,
        answer_expr=q.get("answer_expr"), tolerance=tolerance, explanation=str(q.get("explanation") or ""),
        choice_feedback=[v or "" for v in q.get("choice_feedback") or []],
        mistakes=[Mistake(message=m["message"], value=float(m["value"]) if "value" in m else None,
                          expr=m.get("expr"),
                          tolerance=_tolerance(m["tolerance"]) if "tolerance" in m else tolerance)
                  for m in q.get("mistakes") or []],
        companion_of=q.get("companion_of"), variant=q.get("variant"))


def _check(bank: Bank, name: str, computations) -> None:
    """Check what the schema cannot; each problem named with its question and what to do."""
    ids = [q.id for q in bank.questions]
    for q in bank.questions:
        where = f"Question '{q.id}' in {name}"
        problems = [
            (ids.count(q.id) > 1, "the id is used twice; every question needs its own id"),
            (q.kind == "choice" and not 0 <= (q.answer or 0) < len(q.choices),
             f"'answer' is {(q.answer or 0) + 1}, but the choices are numbered 1 to {len(q.choices)}"),
            (len(q.choice_feedback) not in (0, len(q.choices)),
             f"'choice_feedback' must list one text per choice ({len(q.choices)})"),
            (q.companion_of is not None and q.companion_of not in ids,
             f"'companion_of' names '{q.companion_of}', which is not a question of this bank"),
        ]
        needed = computations[q.answer_expr].variant if q.answer_expr else q.variant
        problems.append((needed != q.variant, (
            f"its answer '{q.answer_expr}' is computed on " + (
                f"the student's own data, so the question needs 'variant: {needed}'" if needed else
                f"the classroom data, so the question must not say 'variant: {q.variant}'")
            + " (the quiz marks such questions and the hand-in records the seed)")))
        texts = [q.prompt, q.explanation, *q.choice_feedback, *(m.message for m in q.mistakes)]
        unknown = [ph for text in texts for ph in placeholders(text) if ph not in computations]
        problems.append((bool(unknown), f"the text uses '[[{(unknown or [''])[0]}]]', which is not a known "
                                        f"computation (known: {', '.join(sorted(computations))})"))
        seeded = [ph for ph in placeholders(q.prompt) if ph in computations and computations[ph].seeded]
        problems.append((bool(seeded), f"the prompt uses '[[{(seeded or [''])[0]}]]', which depends on the "
                                       "student's seed; put it in the explanation or a mistake's message instead"))
        for bad, message in problems:
            if bad:
                raise CourseError(f"{where}: {message}.")
