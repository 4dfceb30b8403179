"""The quiz in the notebook: ipywidgets boxes, each built whole in its constructor.

    from mlmcourse.quiz import Quiz
    quiz = Quiz(chapter=2)
    quiz.header()                       # name field, your seed, where answers are saved, instructor control
    quiz.section("self-assessment")     # one section of the bank (see quiz.bank.sections)
    mine = quiz.my_data()               # your own data (from your seed) for the questions marked "your data"
    quiz.export_panel()                 # the hand-in button ("W2 Activity Form")
    quiz                                # or all of it at once

    Quiz           the whole quiz, a VBox: the header, one SectionView per section, the export panel
    QuizHeader     name, seed, where answers are saved, the store's notes, the instructor's Reveal button
    SectionView    a section's title and its questions
    QuestionView   one question: its text, an input, a Check button and the feedback
    RevealButton   the instructor's "Reveal solutions" toggle (lecture mode)

Each box's display carries a static rendering (text/html, text/plain) beside the widget, for
views without a kernel (GitHub, nbviewer, the web book's text); JupyterLab shows the widget.

Questions come from the chapter's bank (``mlmcourse/quiz/questions/chapter02.yml``, see
``mlmcourse.quiz.bank``); numeric answers are computed live (``mlmcourse.quiz.live``); answers are
saved as the student types (``mlmcourse.quiz.store``) and restored when the notebook is run again;
what a check says is :func:`mlmcourse.quiz.feedback.feedback_html`.

Instructors: ``python -m mlmcourse quiz encode FILE`` hides the plain solution fields of a bank
file, ``python -m mlmcourse quiz decode FILE`` prints them, ``python -m mlmcourse quiz check FILE``
validates a bank.
"""
from __future__ import annotations

import dataclasses
import html
import os
import re
import weakref
from pathlib import Path

import ipywidgets as widgets

from .. import lecture
from ..errors import CourseError
from ..userfiles import building_page
from .bank import Bank, Question, Section, fill, load_bank
from .checking import check_choice, check_numeric
from .feedback import feedback_html
from .live import Context, default_context
from .markup import box, plain_text, render
from .store import AnswerStore


class StaticFallback:
    """A widget whose display also carries a static rendering of it (a mixin before the box class).

    Views without a kernel (GitHub, nbviewer, a notebook opened without running it) show text/html
    or text/plain instead of the interactive widget, which JupyterLab keeps showing (its widget
    renderer ranks first).
    """

    def static_html(self) -> str:
        """Return the HTML shown where the widget cannot be."""
        raise NotImplementedError

    def static_text(self) -> str:
        """Return the plain text shown where neither the widget nor HTML can be."""
        return plain_text(self.static_html())

    def _repr_mimebundle_(self, **kwargs) -> dict:
        data = super()._repr_mimebundle_(**kwargs) or {}
        if isinstance(data, tuple):   # (data, metadata)
            data = data[0]
        return {**data, "text/html": self.static_html(), "text/plain": self.static_text()}


class RevealButton(widgets.ToggleButton):
    """The instructor's toggle button: visible in lecture mode only, pressed while revealed."""

    def __init__(self):
        super().__init__(value=lecture.current_mode().revealed, description="Reveal solutions", icon="eye",
                         tooltip="Instructor: show the model answers to the class")
        self.add_class("mlm-reveal")
        self.observe(self._on_toggle, names="value")
        lecture.subscribe(self.sync)   # weakly: the widget registry keeps the button until it is closed
        self.sync()

    def sync(self) -> None:
        """Follow lecture mode: shown in it, pressed while the solutions are revealed."""
        mode = lecture.current_mode()
        self.layout.display = "" if mode.lecture else "none"
        if self.value != mode.revealed:
            self.value = mode.revealed

    def _on_toggle(self, change) -> None:
        if change["new"] != lecture.current_mode().revealed:
            lecture.reveal_solutions(change["new"])


def _question_label(q: Question) -> str:
    """Label the question: its id, and whether it is asked on the student's own data or checks another."""
    label = f"<b>{html.escape(q.id)}</b>"
    if q.variant:  # asked on the student's own data (the seed is in the quiz header)
        call = "quiz.my_data()" if q.variant == "bootstrap" else f'quiz.my_data("{q.variant}")'
        label += (f' <span class="mlm-your-data" style="color:#2c5d8f">(your data: '
                  f"<code>{html.escape(call)}</code>)</span>")
    if q.companion_of:
        label += f' <span style="color:#666">(check for {html.escape(q.companion_of)})</span>'
    return label


def _answer_input(q: Question, saved: dict) -> widgets.Widget:
    """Return the input of a question's kind, holding the saved answer."""
    if q.kind == "open":
        return widgets.Textarea(value=str(saved.get("answer", "")), placeholder="Your answer...",
                                layout=widgets.Layout(width="95%", height="7em"))
    if q.kind == "choice":
        options = [(f"Choice {i + 1}" if _choices_have_math(q) else c, i) for i, c in enumerate(q.choices)]
        idx = saved.get("answer")
        return widgets.RadioButtons(options=options, value=idx if isinstance(idx, int) and 0 <= idx < len(options)
                                    else None, layout=widgets.Layout(width="95%"))
    return widgets.Text(value=str(saved.get("answer", "")), placeholder="a number", description="Answer:",
                        continuous_update=True)


def _choices_have_math(q: Question) -> bool:
    """Radio buttons cannot typeset math: such choices are listed above them, numbered."""
    return q.kind == "choice" and any("$" in c for c in q.choices)


def _choice_list(q: Question) -> str:
    return "<ol>" + "".join(f"<li>{render(c)}</li>" for c in q.choices) + "</ol>"


class QuestionView(widgets.VBox):
    """One question: its text, an input, a Check button and the feedback."""

    def __init__(self, question: Question, store: AnswerStore, context: Context):
        super().__init__(layout=widgets.Layout(margin="0 0 14px 0"))
        self.q, self.store, self.context = question, store, context
        self.result: dict | None = None
        self.wrong_tries = 0          # numeric: the value is shown after TRIES_BEFORE_SOLUTION
        self._shown: Question | None = None   # the question with its texts filled in, on first feedback
        saved = store.get(question.id)
        self.prompt = widgets.HTMLMath(value=f"{_question_label(question)}{render(self._fill(question.prompt))}")
        if question.kind == "choice":
            self.choice_text = widgets.HTMLMath(value=_choice_list(question))
        self.input = _answer_input(question, saved)
        self.input.add_class("mlm-answer")
        self.check_button = widgets.Button(description="Check", button_style="primary",
                                           tooltip="Compare your answer with the solution")
        self.check_button.add_class("mlm-check")
        self.feedback = widgets.HTMLMath(value="")
        self.feedback.add_class("mlm-feedback")
        self.save_note = widgets.HTML(value="")  # a failed save of this answer, said where it is typed
        self.save_note.add_class("mlm-save-note")
        self.children = self._rows()
        self.add_class("mlm-question")
        self.add_class("mlm-q-" + re.sub(r"[^A-Za-z0-9_-]", "_", question.id))
        self.input.observe(self._on_input, names="value")
        self.check_button.on_click(lambda _b: self.check())
        if saved.get("checked"):
            self._evaluate(save=False)

    def _rows(self) -> list:
        rows = [self.prompt]
        if _choices_have_math(self.q):
            rows.append(self.choice_text)
        if self.q.kind == "numeric" and self.q.tolerance is not None:
            rows.append(widgets.HTML(f'<span style="color:#666;font-size:90%">Checked '
                                     f"{self.q.tolerance.describe()}.</span>"))
        return [*rows, self.input, self.save_note, self.check_button, self.feedback]

    # -- helpers ---------------------------------------------------------------------------
    def _fill(self, text: str) -> str:
        try:
            return fill(text, self.context.value)
        except CourseError as exc:
            return f"{text}\n\n(value not available: {exc})"

    def shown_question(self) -> Question:
        """Return the question as this student sees it: its texts' live values filled in (once)."""
        if self._shown is None:
            q = self.q
            self._shown = dataclasses.replace(
                q, model_answer=q.model_answer and self._fill(q.model_answer),
                explanation=q.explanation and self._fill(q.explanation),
                choice_feedback=[self._fill(t) for t in q.choice_feedback])
        return self._shown

    def _on_input(self, change) -> None:
        """Save the edit.

        An edited answer is no longer the one checked: its "checked"/"correct" and the feedback
        are cleared (the count of wrong tries stays).
        """
        fields = {"answer": change["new"], "kind": self.q.kind}
        if self.result is not None or self.store.get(self.q.id).get("checked"):
            fields.update(checked=False, correct=None)
            self.result = None
            self.refresh()
        self.store.update(self.q.id, **fields)
        self.show_save_state()

    def show_save_state(self) -> None:
        """Say so under the answer while its latest change is not saved (it stays in the widget).

        Also say when part of its text had to be replaced to be saved.
        """
        error = self.store.last_error if self.q.id in self.store.unsaved else None
        replaced = self.store.replaced.get(self.q.id)
        self.save_note.value = ((box("bad", render(error)) if error else "")
                                + (box("info", render(replaced)) if replaced else ""))

    # -- checking --------------------------------------------------------------------------
    def check(self) -> dict:
        """Do what the Check button does: evaluate, show feedback, save now."""
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
        result["wrong_tries"] = self.wrong_tries
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
        """Show the feedback for the last check in the mode in force (lecture mode passed in)."""
        if self.result is None:
            self.feedback.value = ""
            return
        # a failed check shows its message alone: no live value is filled in for it
        question = self.q if self.result["status"] == "error" else self.shown_question()
        self.feedback.value = feedback_html(question, self.result, lecture.current_mode())


def _static_choices(q: Question) -> str:
    """List the options of a choice question, numbered, for the static rendering."""
    if q.kind != "choice":
        return ""
    return ("<ol class='mlm-static-choices'>" + "".join(f"<li>{render(c)}</li>" for c in q.choices)
            + "</ol>")


class SectionView(StaticFallback, widgets.VBox):
    """A section of the bank: its title and introduction, then its questions."""

    def __init__(self, section: Section, views: list[QuestionView]):
        super().__init__()
        self.section, self.views = section, list(views)
        title = widgets.HTMLMath(f"<h3>{html.escape(section.title)}</h3>{render(section.intro)}")
        self.children = [title, *self.views]
        self.add_class("mlm-section")

    def static_html(self) -> str:
        """Return the section's questions as the widget shows them, with every option listed."""
        questions = "".join(f"<li>{v.prompt.value}{_static_choices(v.q)}</li>" for v in self.views)
        return (f"<div class='mlm-static-quiz'><h3>{html.escape(self.section.title)}</h3>"
                f"{render(self.section.intro)}<ol style='list-style:none;padding-left:0'>{questions}</ol>"
                "<p><i>Open this notebook in JupyterLab and run it to answer and check.</i></p></div>")

    def static_text(self) -> str:
        """Return the section's title, then one line per question and its numbered options."""
        return "\n".join([self.section.title] + [
            plain_text(v.prompt.value) + "".join(f"\n    {i}. {c}" for i, c in enumerate(v.q.choices, 1))
            for v in self.views])


class QuizHeader(StaticFallback, widgets.VBox):
    """The quiz's header: name field, seed, where the answers are saved, the store's notes.

    Where the answers are saved, or why they cannot be; what the store had to set aside or move
    in; and, in lecture mode, the instructor's Reveal button.
    """

    def __init__(self, store: AnswerStore, seed: int):
        super().__init__()
        self.store, self.seed = store, seed
        self.name = widgets.Text(value=store.student, description="Your name:",
                                 placeholder="for the hand-in form", continuous_update=True,
                                 style={"description_width": "initial"})
        self.name.add_class("mlm-student")
        self.name.observe(lambda ch: store.set_student(ch["new"]), names="value")
        self.seed_line = widgets.HTML(self._seed_html())
        self.seed_line.add_class("mlm-seed")
        self.save_status = widgets.HTML(self._status_html())
        self.save_status.add_class("mlm-save-status")
        self.notices = widgets.HTML(self._notices_html())
        self.notices.add_class("mlm-store-notices")
        # the notes stay, in every session, until the student says they have checked their answers
        self.dismiss_button = widgets.Button(
            description="I have checked my answers",
            tooltip="Stop showing these notes (and warning of them in the hand-in)",
            layout=widgets.Layout(width="auto", display=None if store.notices else "none"))
        self.dismiss_button.add_class("mlm-dismiss-notices")
        self.dismiss_button.on_click(lambda _b: self._dismiss_notices())
        self.reveal = RevealButton()
        self.children = [self.name, self.seed_line, self.save_status, self.notices, self.dismiss_button,
                         self.reveal]

    def refresh(self) -> None:
        """Show the store's state after a save: where answers go (or the failure), its notes."""
        self.save_status.value = self._status_html()
        self.notices.value = self._notices_html()
        self.dismiss_button.layout.display = None if self.store.notices else "none"

    def _dismiss_notices(self) -> None:
        try:
            self.store.dismiss_notices()   # (its listeners, the quiz's _on_save, refresh this header)
        except CourseError as exc:
            self.notices.value = self._notices_html() + box("bad", render(str(exc)))

    def _notices_html(self) -> str:
        kind = "bad" if self.store.has_damage else "info"  # a damaged file set aside, or old answers moved in
        return "".join(box(kind, render(n)) for n in self.store.notices)

    def _status_html(self) -> str:
        if self.store.last_error:
            return box("bad", render(self.store.last_error))
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

    def static_html(self) -> str:
        """Return the name field's label, the seed line and where answers are saved."""
        return (f"<div class='mlm-static-quiz'><p><b>Your name:</b> (for the hand-in form)</p>"
                f"<p>{self.seed_line.value}</p><p>{self.save_status.value}</p></div>")


class Quiz(StaticFallback, widgets.VBox):
    """A chapter's quiz: the bank, the student's saved answers and the question widgets.

    The quiz is a box holding its header, one :class:`SectionView` per section of the bank and the
    export panel, all made here; ``header()``, ``section(id)`` and ``export_panel()`` return them to
    be shown one by one between the notebook's cells. Like every widget, it lives until
    :meth:`close` (or the kernel's end), which also closes its answers file.
    """

    def __init__(self, chapter: int = 2, store: AnswerStore | None = None,
                 context: Context | None = None, bank: Bank | None = None):
        super().__init__()
        self.bank = bank if bank is not None else load_bank(chapter=chapter)
        self.chapter = self.bank.chapter
        self.store = store if store is not None else AnswerStore(self.chapter)
        # the student's seed: made once per chapter and kept in the store; their own data and
        # the expected answers on it come from it (a given context is used with this seed)
        self.seed = self.store.ensure_seed()
        context = context if context is not None else default_context()
        self.context = context.for_seed(self.seed)
        self.export_result = None
        self.views = {q.id: QuestionView(q, self.store, self.context) for q in self.bank.questions}
        self.sections = {s.id: SectionView(s, [self.views[q.id] for q in s.questions]) for s in self.bank.sections}
        self._header = QuizHeader(self.store, self.seed)
        self.name_widget, self.seed_widget = self._header.name, self._header.seed_line
        self.save_status, self.notices = self._header.save_status, self._header.notices
        self.dismiss_button = self._header.dismiss_button
        self._export = self._make_export_panel()
        self.children = [self._header, *self.sections.values(), self._export]
        # no strong reference to the quiz from anything that outlives it but the widget registry:
        # the store and lecture mode hold its callbacks weakly; closing the store (saving what a
        # failed save left, folding SQLite's WAL in) happens at close() or at exit, whichever first
        self.store.subscribe(self._on_save)
        lecture.subscribe(self._on_lecture_change)
        self._closer = weakref.finalize(self, self.store.close)

    # -- the parts, for the notebook's cells -------------------------------------------------
    def header(self) -> QuizHeader:
        """Return the header: name, seed, where answers are saved, notes, the Reveal button."""
        return self._header

    def section(self, section_id: str) -> SectionView:
        """Return the widgets of one section of the bank."""
        return self.sections[self.bank.section(section_id).id]

    def view(self, qid: str) -> QuestionView:
        """Return one question's view."""
        return self.views[self.bank.question(qid).id]

    def export_panel(self) -> widgets.VBox:
        """Return the hand-in button: it writes the activity form and offers it for download."""
        return self._export

    def my_data(self, kind: str = "bootstrap"):
        """Return your own data, made from your seed.

        ``"bootstrap"`` (a bootstrap sample of the classroom data's schools) or ``"simulated"``
        (simulated schools). A copy: change it freely.
        """
        return self.context.variant(kind).copy()

    def static_html(self) -> str:
        """Return the header's and every section's static rendering, in order."""
        return "".join([self._header.static_html(), *(s.static_html() for s in self.sections.values())])

    def static_text(self) -> str:
        """Return the header's and every section's plain text, in order."""
        return "\n\n".join([self._header.static_text(), *(s.static_text() for s in self.sections.values())])

    def close(self) -> None:
        """Close the quiz's widgets (ipywidgets keeps every widget until then) and its answers file."""
        for widget in _descendants(self):   # (every question is in a section)
            if widget is not self:
                widget.close()
        super().close()
        self._closer()

    # -- events ------------------------------------------------------------------------------
    def _on_save(self) -> None:
        self._header.refresh()
        for view in self.views.values():
            view.show_save_state()

    def _on_lecture_change(self) -> None:
        for view in self.views.values():
            view.refresh()

    def _make_export_panel(self) -> widgets.VBox:
        self.export_format = widgets.ToggleButtons(options=[("Markdown", "md"), ("HTML", "html")], value="md",
                                                   description="Format:")
        self.export_button = widgets.Button(description=f"Export {self.bank.form}", icon="download",
                                            button_style="success", layout=widgets.Layout(width="auto"))
        self.export_button.add_class("mlm-export")
        self.export_output = widgets.HTML("")
        self.export_output.add_class("mlm-export-result")
        self.export_button.on_click(lambda _b: self._export_answers())
        return widgets.VBox([self.export_format, self.export_button, self.export_output])

    def _export_answers(self) -> None:
        """Do what the export button does: write the form, say where, and what it may lack."""
        try:
            self.export_output.value = self._write_form()
        except CourseError as exc:
            self.export_output.value = box("bad", render(str(exc)))
        except Exception as exc:  # a dead button would say nothing: say what happened
            self.export_output.value = box("bad", render(
                f"The form could not be written ({type(exc).__name__}: {exc}). Your answers are kept in "
                "this notebook and its answers file; try `python -m mlmcourse answers export` in a "
                "terminal, and tell your instructor."))

    def _write_form(self) -> str:
        from .handin import export_answers, incomplete_warning

        try:
            self.store.flush()
        except CourseError:
            pass  # the file holds what the notebook shows; the warning below says the rest
        path, link = export_answers(self.chapter, fmt=self.export_format.value, store=self.store,
                                    bank=self.bank, with_link=True)
        self.export_result = path
        problems = self.store.problems()
        done = f"<p>Written to <code>{html.escape(str(path))}</code>. {link}"
        if not problems:
            return box("ok", done + " Hand this file in.</p>")
        return box("ok", done + "</p>") + box("bad", render(incomplete_warning(path, problems)))


def _descendants(widget) -> list:
    """Return a widget, its children's widgets (recursively), and their layouts and styles."""
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += _descendants(child)
    found += [w for w in (getattr(widget, "layout", None), getattr(widget, "style", None))
              if isinstance(w, widgets.Widget)]
    return found
