"""What the quiz says after a check: a pure function of the question, the check's result and the mode.

    from mlmcourse.lecture import Mode
    feedback_html(question, {"status": "bad", "correct": False, "value": 0.24, "target": 0.0908,
                             "mistake": None, "wrong_tries": 1}, Mode())

``question`` is the bank's question as the student sees it (its texts' ``[[...]]`` placeholders
already filled in by the caller); ``result`` is what the check returned (``mlmcourse.quiz.checking``),
with ``wrong_tries``, the wrong numeric answers so far, and ``save_error`` when the answer could not
be saved; ``mode`` is lecture mode's state (:class:`mlmcourse.lecture.Mode`), passed in by the caller.
Nothing here reads a global, the store or the live values: the same arguments give the same HTML.
"""
from __future__ import annotations

import html

from ..lecture import Mode
from .bank import Question
from .markup import box, render

# a wrong numeric answer is told it is wrong (and which slip it looks like), but the course's value
# and the explanation only after this many wrong checks: the answer has to be worked, not read off
TRIES_BEFORE_SOLUTION = 3

HIDDEN_MODEL_ANSWER = ("<p>Your answer is saved. The model answer appears when your instructor reveals "
                       "the solutions.</p>")
HIDDEN_EXPLANATION = "<p>The explanation appears when your instructor reveals the solutions.</p>"


def feedback_html(question: Question, result: dict | None, mode: Mode) -> str:
    """Return the feedback shown under a question after a check ("" before any check)."""
    if result is None:
        return ""
    if result["status"] == "error":
        return box("bad", render(result["message"]))
    if result["status"] == "open":
        parts = [_open_feedback(question, mode)]
    else:
        parts = [_checked_feedback(question, result, mode)]
    if result.get("save_error"):
        parts.append(box("bad", render(result["save_error"])))
    return "\n".join(parts)


def _open_feedback(q: Question, mode: Mode) -> str:
    """Show an open answer the model answer and its key points, unless the instructor hides them."""
    if mode.solutions_hidden:
        return box("hidden", HIDDEN_MODEL_ANSWER)
    body = "<p><b>Model answer</b></p>" + render(q.model_answer)
    if q.key_points:
        body += "<p><b>Key points to compare with your answer</b></p><ul>" + "".join(
            f"<li>{html.escape(k, quote=False)}</li>" for k in q.key_points) + "</ul>"
    return box("info", body)


def _checked_feedback(q: Question, r: dict, mode: Mode) -> str:
    """Say whether a choice or a number is right, the slip it looks like, then the solution when due."""
    body = "<p><b>Correct.</b></p>" if r["correct"] else "<p><b>Not quite.</b></p>"
    if q.kind == "choice" and q.choice_feedback and not mode.solutions_hidden:
        body += render(q.choice_feedback[r["choice"]])
    if r.get("mistake"):
        body += render(r["mistake"])
    body += _solution(q, r, mode)
    return box("ok" if r["correct"] else "bad", body)


def _withheld(q: Question, r: dict, mode: Mode) -> bool:
    """Whether a wrong number's value and explanation wait for more tries (not in a lecture)."""
    return (q.kind == "numeric" and not r["correct"] and not mode.lecture
            and r.get("wrong_tries", 0) < TRIES_BEFORE_SOLUTION)


def _solution(q: Question, r: dict, mode: Mode) -> str:
    """Give the course's value (for a wrong number) and the explanation, or why they are not shown yet."""
    if mode.solutions_hidden:
        return HIDDEN_EXPLANATION
    if _withheld(q, r, mode):
        left = TRIES_BEFORE_SOLUTION - r.get("wrong_tries", 0)
        return (f"<p>You entered {r['value']:g}: not the course's value ({q.tolerance.describe()} counts "
                f"as right). Check your steps and try again; the value and the explanation appear after "
                f"{left} more {'try' if left == 1 else 'tries'}.</p>")
    body = ""
    if q.kind == "numeric" and not r["correct"]:
        body += (f"<p>You entered {r['value']:g}; the course's fit gives {r['target']:.6g} "
                 f"({q.tolerance.describe()} counts as right).</p>")
    if q.explanation:
        body += render(q.explanation)
    return body
