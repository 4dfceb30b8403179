"""Self-assessment widgets: the chapter quizzes, answered in the notebook.

    from mlmcourse.quiz import Quiz
    quiz = Quiz(chapter=2)
    quiz.header()                       # name field, your seed, where answers are saved, instructor control
    quiz.section("self-assessment")     # one section of the bank (see quiz.bank.sections)
    mine = quiz.my_data()               # your own data (from your seed) for the questions marked "your data"
    quiz.export_panel()                 # the hand-in button ("W2 Activity Form")

Questions come from the chapter's bank (``mlmcourse/quiz/questions/chapter02.yml``, see
``mlmcourse.quiz.bank``); numeric answers are computed live (``mlmcourse.quiz.live``); answers are
saved as the student types (``mlmcourse.quiz.store``) and restored when the notebook is run again.

Instructors: ``python -m mlmcourse quiz encode FILE`` hides the plain solution fields of a bank
file, ``python -m mlmcourse quiz decode FILE`` prints them, ``python -m mlmcourse quiz check FILE``
validates a bank.
"""
from __future__ import annotations

import html
import os
import re
import weakref
from pathlib import Path

from .. import lecture
from ..errors import CourseError
from ..userfiles import building_page
from .bank import Bank, Question, fill, load_bank
from .checking import check_choice, check_numeric, parse_number  # noqa: F401 (parse_number: tests)
from .live import Context, default_context
from .store import AnswerStore

_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<b>\1</b>"),
    (re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])"), r"<i>\1</i>"),
]


def render(text: str) -> str:
    """A little Markdown (paragraphs, `code`, **bold**, *italic*) to HTML; $math$ is left for MathJax."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    out = []
    for p in paragraphs:
        p = html.escape(" ".join(line.strip() for line in p.splitlines()), quote=False)
        for pattern, repl in _INLINE:
            p = pattern.sub(repl, p)
        out.append(f"<p>{p}</p>")
    return "\n".join(out)


def _box(kind: str, body: str) -> str:
    colors = {"ok": "#1b7837", "bad": "#b2182b", "info": "#2c5d8f", "hidden": "#666666"}
    return (f'<div class="mlm-fb mlm-fb-{kind}" style="border-left:4px solid {colors[kind]};'
            f'padding:4px 10px;margin:4px 0">{body}</div>')


# a wrong numeric answer is told it is wrong (and which slip it looks like), but the course's value
# and the explanation only after this many wrong checks: the answer has to be worked, not read off
TRIES_BEFORE_SOLUTION = 3


class QuestionView:
    """One question: its text, an input, a Check button and the feedback."""

    def __init__(self, question: Question, store: AnswerStore, context: Context):
        import ipywidgets as widgets

        self.q, self.store, self.context = question, store, context
        label = f"<b>{html.escape(question.id)}</b>"
        if question.variant:  # asked on the student's own data (the seed is in the quiz header)
            call = "quiz.my_data()" if question.variant == "bootstrap" else f'quiz.my_data("{question.variant}")'
            label += (f' <span class="mlm-your-data" style="color:#2c5d8f">(your data: '
                      f"<code>{html.escape(call)}</code>)</span>")
        if question.companion_of:
            label += f' <span style="color:#666">(check for {html.escape(question.companion_of)})</span>'
        self.prompt = widgets.HTMLMath(value=f"{label}{render(self._fill(question.prompt))}")
        saved = store.get(question.id)
        if question.kind == "open":
            self.input = widgets.Textarea(value=str(saved.get("answer", "")), placeholder="Your answer...",
                                          layout=widgets.Layout(width="95%", height="7em"))
        elif question.kind == "choice":
            with_math = any("$" in c for c in question.choices)  # then the list above shows them
            options = [(f"Choice {i + 1}" if with_math else c, i) for i, c in enumerate(question.choices)]
            idx = saved.get("answer")
            self.input = widgets.RadioButtons(options=options, value=idx if isinstance(idx, int)
                                              and 0 <= idx < len(options) else None,
                                              layout=widgets.Layout(width="95%"))
            self.choice_text = widgets.HTMLMath(value="<ol>" + "".join(
                f"<li>{render(c)}</li>" for c in question.choices) + "</ol>")
        else:
            self.input = widgets.Text(value=str(saved.get("answer", "")), placeholder="a number",
                                      description="Answer:", continuous_update=True)
        self.input.add_class("mlm-answer")
        self.check_button = widgets.Button(description="Check", button_style="primary",
                                           tooltip="Compare your answer with the solution")
        self.check_button.add_class("mlm-check")
        self.feedback = widgets.HTMLMath(value="")
        self.feedback.add_class("mlm-feedback")
        children = [self.prompt]
        if question.kind == "choice" and any("$" in c for c in question.choices):
            children.append(self.choice_text)
        if question.kind == "numeric" and question.tolerance is not None:
            children.append(widgets.HTML(f'<span style="color:#666;font-size:90%">Checked '
                                         f"{question.tolerance.describe()}.</span>"))
        self.save_note = widgets.HTML(value="")  # a failed save of this answer, said where it is typed
        self.save_note.add_class("mlm-save-note")
        children += [self.input, self.save_note, self.check_button, self.feedback]
        self.widget = widgets.VBox(children, layout=widgets.Layout(margin="0 0 14px 0"))
        self.widget.add_class("mlm-question")
        self.widget.add_class("mlm-q-" + re.sub(r"[^A-Za-z0-9_-]", "_", question.id))
        self.input.observe(self._on_input, names="value")
        self.check_button.on_click(lambda _b: self.check())
        self.result: dict | None = None
        self.wrong_tries = 0          # numeric: the value is shown after TRIES_BEFORE_SOLUTION
        if saved.get("checked"):
            self._evaluate(save=False)

    # -- helpers ---------------------------------------------------------------------------
    def _fill(self, text: str) -> str:
        try:
            return fill(text, self.context.value)
        except CourseError as exc:
            return f"{text}\n\n(value not available: {exc})"

    def _on_input(self, change) -> None:
        """Save the edit. An edited answer is no longer the one checked: its "checked"/"correct" and
        the feedback are cleared (the count of wrong tries stays)."""
        fields = {"answer": change["new"], "kind": self.q.kind}
        if self.result is not None or self.store.get(self.q.id).get("checked"):
            fields.update(checked=False, correct=None)
            self.result = None
            self.refresh()
        self.store.update(self.q.id, **fields)
        self.show_save_state()

    def show_save_state(self) -> None:
        """Say so under the answer while its latest change is not saved (it stays in the widget),
        and when part of its text had to be replaced to be saved."""
        error = self.store.last_error if self.q.id in self.store.unsaved else None
        replaced = self.store.replaced.get(self.q.id)
        self.save_note.value = ((_box("bad", render(error)) if error else "")
                                + (_box("info", render(replaced)) if replaced else ""))

    # -- checking --------------------------------------------------------------------------
    def check(self) -> dict:
        """What the Check button does: evaluate, show feedback, save now."""
        return self._evaluate(save=True)

    def _evaluate(self, save: bool) -> dict:
        try:
            result = getattr(self, "_check_" + self.q.kind)()
        except CourseError as exc:
            result = {"status": "error", "message": str(exc)}
        except Exception as exc:  # a bug must not look like a dead button: say so, briefly
            result = {"status": "error", "message": (
                f"The check could not be completed ({type(exc).__name__}: {exc}). Your answer is "
                "kept; run the notebook's cells again, and tell your instructor if this persists.")}
        if result["status"] == "bad":
            self.wrong_tries += 1
        self.result = result
        if save and result["status"] != "error":
            self.store.update(self.q.id, answer=self.input.value, kind=self.q.kind, checked=True,
                              correct=result.get("correct"))
            try:
                self.store.flush()
            except CourseError as exc:
                result["save_error"] = str(exc)
        self.refresh()
        return result

    def _check_open(self) -> dict:
        if not str(self.input.value).strip():
            raise CourseError("Write your own answer first, then press Check to compare it with the model answer.")
        return {"status": "open", "correct": None}

    def _check_choice(self) -> dict:
        return check_choice(self.q, self.input.value)

    def _check_numeric(self) -> dict:
        result = check_numeric(self.q, self.input.value, self.context.value)
        if result["mistake"]:
            result["mistake"] = self._fill(result["mistake"])
        return result

    # -- showing ---------------------------------------------------------------------------
    def refresh(self) -> None:
        self.feedback.value = self.feedback_html()

    def feedback_html(self) -> str:
        r = self.result
        if r is None:
            return ""
        if r["status"] == "error":
            return _box("bad", render(r["message"]))
        hidden = lecture.solutions_hidden()
        parts = []
        if r["status"] == "open":
            if hidden:
                parts.append(_box("hidden", "<p>Your answer is saved. The model answer appears when "
                                            "your instructor reveals the solutions.</p>"))
            else:
                body = "<p><b>Model answer</b></p>" + render(self._fill(self.q.model_answer))
                if self.q.key_points:
                    body += "<p><b>Key points to compare with your answer</b></p><ul>" + "".join(
                        f"<li>{html.escape(k, quote=False)}</li>" for k in self.q.key_points) + "</ul>"
                parts.append(_box("info", body))
        else:
            head = "<p><b>Correct.</b></p>" if r["correct"] else "<p><b>Not quite.</b></p>"
            body = head
            if self.q.kind == "choice" and self.q.choice_feedback and not hidden:
                body += render(self._fill(self.q.choice_feedback[r["choice"]]))
            if r.get("mistake"):
                body += render(r["mistake"])
            withheld = (self.q.kind == "numeric" and not r["correct"] and not lecture.is_lecture()
                        and self.wrong_tries < TRIES_BEFORE_SOLUTION)   # (an instructor's reveal shows it)
            if withheld and not hidden:
                left = TRIES_BEFORE_SOLUTION - self.wrong_tries
                body += (f"<p>You entered {r['value']:g}: not the course's value "
                         f"({self.q.tolerance.describe()} counts as right). Check your steps and try "
                         f"again; the value and the explanation appear after {left} more "
                         f"{'try' if left == 1 else 'tries'}.</p>")
            elif not hidden:
                if self.q.kind == "numeric" and not r["correct"]:
                    body += (f"<p>You entered {r['value']:g}; the course's fit gives "
                             f"{r['target']:.6g} ({self.q.tolerance.describe()} counts as right).</p>")
                if self.q.explanation:
                    body += render(self._fill(self.q.explanation))
            else:
                body += "<p>The explanation appears when your instructor reveals the solutions.</p>"
            parts.append(_box("ok" if r["correct"] else "bad", body))
        if r.get("save_error"):
            parts.append(_box("bad", render(r["save_error"])))
        return "\n".join(parts)


def _static_choices(q: Question) -> str:
    """The options of a choice question, numbered, for the static rendering."""
    if q.kind != "choice":
        return ""
    return ("<ol class='mlm-static-choices'>" + "".join(f"<li>{render(c)}</li>" for c in q.choices)
            + "</ol>")


def _with_static_fallback(box, section, views):
    """Give a section's widget a plain rendering of its questions for static views (GitHub,
    nbviewer, a notebook opened without its kernel): they show text/html or text/plain instead
    of the interactive widget, which JupyterLab keeps showing (its widget renderer ranks first)."""
    questions = "".join(f"<li>{v.prompt.value}{_static_choices(v.q)}</li>" for v in views)  # as the widget
    static_html = (f"<div class='mlm-static-quiz'><h3>{html.escape(section.title)}</h3>{render(section.intro)}"
                   f"<ol style='list-style:none;padding-left:0'>{questions}</ol>"
                   "<p><i>Open this notebook in JupyterLab and run it to answer and check.</i></p></div>")
    static_text = "\n".join([section.title] + [
        " ".join(re.sub(r"<[^>]+>", " ", html.unescape(v.prompt.value)).split())
        + "".join(f"\n    {i}. {c}" for i, c in enumerate(v.q.choices, 1)) for v in views])
    return _with_static_bundle(box, static_html, static_text)


def _with_static_bundle(box, static_html: str, static_text: str | None = None):
    """Add text/html and text/plain to a widget's display (JupyterLab keeps showing the widget)."""
    if static_text is None:
        static_text = " ".join(re.sub(r"<[^>]+>", " ", html.unescape(static_html)).split())
    widget_bundle = box._repr_mimebundle_

    def bundle(**kwargs):
        data = widget_bundle(**kwargs) or {}
        if isinstance(data, tuple):
            data = data[0]
        return {**data, "text/html": static_html, "text/plain": static_text}

    box._repr_mimebundle_ = bundle
    return box


class Quiz:
    """A chapter's quiz: the bank, the student's saved answers and the question widgets."""

    def __init__(self, chapter: int = 2, store: AnswerStore | None = None,
                 context: Context | None = None, bank: Bank | None = None):
        self.bank = bank if bank is not None else load_bank(chapter=chapter)
        self.chapter = self.bank.chapter
        self.store = store if store is not None else AnswerStore(self.chapter)
        # the student's seed: made once per chapter and kept in the store; their own data and
        # the expected answers on it come from it (a given context is used with this seed)
        self.seed = self.store.ensure_seed()
        context = context if context is not None else default_context()
        self.context = context.for_seed(self.seed)
        self.views: dict[str, QuestionView] = {}
        self.export_result = None
        self.save_status = None
        # no strong reference to the quiz from anything that outlives it: the store and lecture
        # mode hold its callbacks weakly; closing the store (saving what a failed save left,
        # folding SQLite's WAL in) happens when the quiz is collected or at exit, whichever first
        self.store.subscribe(self._on_save)
        lecture.subscribe(self._on_lecture_change)
        self._closer = weakref.finalize(self, self.store.close)

    def _on_save(self) -> None:
        if self.save_status is not None:
            self.save_status.value = self._status_html()
            self.notices.value = self._notices_html()
            self.dismiss_button.layout.display = None if self.store.notices else "none"
        for view in self.views.values():
            view.show_save_state()

    def _dismiss_notices(self) -> None:
        try:
            self.store.dismiss_notices()   # (its listeners, this quiz's _on_save, update the header)
        except CourseError as exc:
            self.notices.value = self._notices_html() + _box("bad", render(str(exc)))

    def _notices_html(self) -> str:
        kind = "bad" if self.store.has_damage else "info"  # a damaged file set aside, or old answers moved in
        return "".join(_box(kind, render(n)) for n in self.store.notices)

    def _status_html(self) -> str:
        if self.store.last_error:
            return _box("bad", render(self.store.last_error))
        if building_page():   # the build run's throw-away folder is nobody's
            return ('<span style="color:#555">Your answers are saved as you type, every version kept, to a '
                    "file of your own (this line names it when you run the notebook), and come back when you "
                    "run this notebook again.</span>")
        shown = str(self.store.path)
        home = str(Path.home())
        if shown.startswith(home + os.sep):
            shown = "~" + shown[len(home):]
        return (f'<span style="color:#555">Your answers are saved as you type, every version kept, to '
                f"<code>{html.escape(shown)}</code>, and come back when you run this notebook again.</span>")

    def my_data(self, kind: str = "bootstrap"):
        """Your own data, made from your seed: ``"bootstrap"`` (a bootstrap sample of the classroom
        data's schools) or ``"simulated"`` (simulated schools). A copy: change it freely."""
        return self.context.variant(kind).copy()

    def _seed_html(self) -> str:
        seed = f'seed <b class="mlm-seed-value">{self.seed}</b>'
        if building_page():   # `make execute` writes the page read on the web: its seed is nobody's
            seed = ("a seed of your own, made the first time you run this notebook and shown here "
                    "(a number from 10000 to 99999)")
        return (f'<span style="color:#555">Your data: {seed}. '
                'Questions marked <i>your data</i> use data made from it: '
                '<code>mine = quiz.my_data()</code> (your sample of schools), '
                '<code>quiz.my_data("simulated")</code> (your simulated schools). '
                "The seed goes into your hand-in file, so your instructor can check your numbers.</span>")

    def _on_lecture_change(self) -> None:
        for view in self.views.values():
            view.refresh()

    def view(self, qid: str) -> QuestionView:
        if qid not in self.views:
            self.views[qid] = QuestionView(self.bank.question(qid), self.store, self.context)
        return self.views[qid]

    def section(self, section_id: str):
        """The widgets of one section of the bank."""
        import ipywidgets as widgets

        s = self.bank.section(section_id)
        title = widgets.HTMLMath(f"<h3>{html.escape(s.title)}</h3>{render(s.intro)}")
        views = [self.view(q.id) for q in s.questions]
        box = _with_static_fallback(widgets.VBox([title] + [v.widget for v in views]), s, views)
        box.add_class("mlm-section")
        return box

    def header(self):
        """Name field, the student's seed, where the answers are saved (or why they cannot be), what
        the store had to set aside or move in, and (in lecture mode) the Reveal button."""
        import ipywidgets as widgets

        name = widgets.Text(value=self.store.student, description="Your name:",
                            placeholder="for the hand-in form", continuous_update=True,
                            style={"description_width": "initial"})
        name.add_class("mlm-student")
        name.observe(lambda ch: self.store.set_student(ch["new"]), names="value")
        self.save_status = widgets.HTML(self._status_html())
        self.save_status.add_class("mlm-save-status")
        self.notices = widgets.HTML(self._notices_html())
        self.notices.add_class("mlm-store-notices")
        # the notes stay, in every session, until the student says they have checked their answers
        self.dismiss_button = widgets.Button(description="I have checked my answers",
                                             tooltip="Stop showing these notes (and warning of them in the hand-in)",
                                             layout=widgets.Layout(width="auto",
                                                                   display=None if self.store.notices else "none"))
        self.dismiss_button.add_class("mlm-dismiss-notices")
        self.dismiss_button.on_click(lambda _b: self._dismiss_notices())
        self.seed_widget = widgets.HTML(self._seed_html())
        self.seed_widget.add_class("mlm-seed")
        self.name_widget = name
        box = widgets.VBox([name, self.seed_widget, self.save_status, self.notices, self.dismiss_button,
                            lecture.reveal_control()])
        static_html = (f"<div class='mlm-static-quiz'><p><b>Your name:</b> (for the hand-in form)</p>"
                       f"<p>{self.seed_widget.value}</p><p>{self.save_status.value}</p></div>")
        return _with_static_bundle(box, static_html)

    def export_panel(self):
        """The hand-in button: writes the activity form and offers it for download."""
        import ipywidgets as widgets

        from .handin import export_answers, incomplete_warning

        fmt = widgets.ToggleButtons(options=[("Markdown", "md"), ("HTML", "html")], value="md",
                                    description="Format:")
        button = widgets.Button(description=f"Export {self.bank.form}", icon="download",
                                button_style="success", layout=widgets.Layout(width="auto"))
        button.add_class("mlm-export")
        out = widgets.HTML("")
        out.add_class("mlm-export-result")

        def on_click(_b):
            try:
                try:
                    self.store.flush()
                except CourseError:
                    pass  # the file holds what the notebook shows; the warning below says the rest
                path, link = export_answers(self.chapter, fmt=fmt.value, store=self.store, bank=self.bank,
                                            with_link=True)
                self.export_result = path
                problems = self.store.problems()
                done = f"<p>Written to <code>{html.escape(str(path))}</code>. {link}"
                out.value = (_box("ok", done + " Hand this file in.</p>") if not problems else
                             _box("ok", done + "</p>") + _box("bad", render(incomplete_warning(path, problems))))
            except CourseError as exc:
                out.value = _box("bad", render(str(exc)))
            except Exception as exc:  # a dead button would say nothing: say what happened
                out.value = _box("bad", render(
                    f"The form could not be written ({type(exc).__name__}: {exc}). Your answers are kept in "
                    "this notebook and its answers file; try `python -m mlmcourse answers export` in a "
                    "terminal, and tell your instructor."))

        button.on_click(on_click)
        self.export_button, self.export_output, self.export_format = button, out, fmt
        return widgets.VBox([fmt, button, out])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.header())
        for s in self.bank.sections:
            display(self.section(s.id))
        display(self.export_panel())
