"""Simulated students: hand-in files made through the course's own answer store and export.

For the grading's tests, its benchmark and the instructors' notebook (a demo class that needs no
real students).

    from mlmcourse.quiz.simulated_class import simulate_student, demo_class
    path = simulate_student(folder, "Ada", seed=12345, how="right")   # or "blank", "off10", a function
    paths = demo_class(folder, n=24)                                   # a class with typical slips

Each student gets an answers database of their own (``folder/.stores/NAME.sqlite3``), their seed
saved in it as the quiz saves one, every answer typed and checked with the quiz's own check
(:mod:`mlmcourse.quiz.checking`), and the hand-in written by :func:`mlmcourse.quiz.handin.export_answers`.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from ..errors import CourseError
from .bank import Bank, load_bank
from .checking import check_choice, check_numeric
from .handin import export_answers
from .store import SEED, AnswerStore


def _number(x: float) -> str:
    return repr(float(x)) if not float(x).is_integer() else str(int(x))


def right_answer(q, ctx) -> object:
    """Return the answer the quiz counts as right: the expected number (as typed), the key's choice."""
    if q.kind == "choice":
        return q.answer
    if q.kind == "numeric":
        return _number(ctx.value(q.answer_expr) if q.answer_expr else q.answer)
    return "My own answer to this question, in my own words."


def off_by(share: float):
    """Return a student who gives every number ``share`` off, and the right choices.

    1.1 x the expected value for 10%; 1 where the expected value is 0.
    """
    def answer(q, ctx, rng):
        if q.kind != "numeric":
            return right_answer(q, ctx)
        target = float(ctx.value(q.answer_expr) if q.answer_expr else q.answer)
        return _number(target * (1 + share) if target != 0 else 1.0)
    return answer


def typical(rng_share_right: float = 0.6):
    """Return a student of a demo class.

    Each auto question right with some chance, else a slip the quiz recognises (when the
    question has one), else 10% off or a wrong choice; some left blank.
    """
    def answer(q, ctx, rng):
        roll = rng.random()
        if roll < 0.08:
            return None
        if roll < 0.08 + rng_share_right or q.kind == "open":
            return right_answer(q, ctx)
        if q.kind == "choice":
            return rng.choice([i for i in range(len(q.choices)) if i != q.answer])
        usable = [m for m in q.mistakes if m.expr or m.value is not None]
        if usable and rng.random() < 0.75:
            m = rng.choice(usable)
            return _number(ctx.value(m.expr) if m.expr else m.value)
        return off_by(0.10)(q, ctx, rng)
    return answer


HOW = {"right": lambda q, ctx, rng: right_answer(q, ctx), "blank": lambda q, ctx, rng: None,
       "off10": off_by(0.10)}


def simulate_student(folder, name: str, seed: int, how="right", bank: Bank | None = None, context=None,
                     rng: random.Random | None = None, fmt: str = "md", filename: str | None = None) -> Path:
    """Write the hand-in of one simulated student (see the module's docstring); return its path.

    ``how`` is "right", "blank", "off10" or a function ``(question, context, rng) -> answer``
    (None: left blank). Every answer is typed into the student's own store and checked there with
    the quiz's check, then the hand-in is exported with the name ``name``.
    """
    from .live import default_context

    bank = bank or load_bank(chapter=2)
    rng = rng or random.Random(seed)
    answer_of = HOW[how] if isinstance(how, str) else how
    ctx = (context or default_context()).for_seed(seed)
    folder = Path(folder)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "student"
    store = AnswerStore(bank.chapter, path=folder / ".stores" / f"{slug}-{seed}.sqlite3")
    try:
        store.update(SEED, answer=int(seed), kind="seed")   # as the quiz saves a new student's seed
        for q in bank.questions:
            answer = answer_of(q, ctx, rng)
            if answer is None:
                continue
            fields = {"answer": answer, "kind": q.kind}
            if q.auto:   # the student pressed Check: the store keeps what the quiz said
                try:
                    result = check_choice(q, answer) if q.kind == "choice" else check_numeric(q, answer, ctx.value)
                    fields.update(checked=True, correct=bool(result["correct"]))
                except CourseError:
                    pass
            store.update(q.id, **fields)
        store.flush()
        out = folder / (filename or f"{slug}.{fmt}")
        return export_answers(bank.chapter, out=out, fmt=fmt, student=name, store=store, bank=bank)
    finally:
        store.close()


FIRST = ["Ada", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira", "Liam",
         "Mona", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tess", "Umar", "Vera", "Wim", "Yara"]


def demo_class(folder, n: int = 24, seed: int = 2024, bank: Bank | None = None, context=None) -> list[Path]:
    """Write a demo class of ``n`` simulated students with typical slips to ``folder``.

    Deterministic for ``seed``; seeds distinct, from 10000 to 99999.
    """
    bank = bank or load_bank(chapter=2)
    rng = random.Random(seed)
    seeds = rng.sample(range(10000, 100000), n)
    paths = []
    for i, s in enumerate(seeds):
        name = f"{FIRST[i % len(FIRST)]} {chr(65 + (i // len(FIRST)) % 26)}."
        paths.append(simulate_student(folder, name, s, how=typical(rng.uniform(0.35, 0.9)), bank=bank,
                                      context=context, rng=random.Random(s)))
    return paths
