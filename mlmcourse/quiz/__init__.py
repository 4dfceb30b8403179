"""The self-assessment: widgets, question banks, live answers, answer storage and hand-in.

from mlmcourse.quiz import Quiz
quiz = Quiz(chapter=2)

views.py      Quiz and QuestionView: the quiz's widgets (ipywidgets boxes)
feedback.py   what a check says: a function of the question, the result and lecture mode
markup.py     the bank's bits of Markdown to HTML, the feedback box
bank.py       question banks: YAML files in questions/, read and checked
registry.py   the live answers as data (questions/computations.yml): names, models, readings
evaluate.py   the evaluator of one computation: its rows, its fits, then its reading
live.py       live answers: the context (data, fits and values, each made once)
variants.py   the student's own data, drawn from a seed
store.py      where answers are saved, and how
checking.py   the check of one answer (the Check button's, and the grading's)
handin.py     the hand-in file ("W2 Activity Form") and its machine-readable block
grade.py      instructors: grade a class's hand-ins (gradebook.csv); report.py: report.html
simulated_class.py  simulated students (the grading's tests, benchmark and notebook 09)
answerdb.py   the SQLite layer of the store (schema, checksums, setting damaged files aside)
cli.py        `python -m mlmcourse answers ...` and `python -m mlmcourse quiz ...`
"""


def __getattr__(name):
    # Quiz needs ipywidgets; the command line and the store do not: import it when asked
    if name in ("Quiz", "QuestionView"):
        from . import views
        return getattr(views, name)
    raise AttributeError(name)


__all__ = ["Quiz"]
