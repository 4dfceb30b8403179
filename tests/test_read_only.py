"""The course folder may be read-only (a JupyterHub share): the notebooks' key steps must run from
a read-only copy of the package and the notebooks, and write nothing inside it (the data cache,
the quiz answers and every other file go to per-user folders, see mlmcourse/userfiles.py).

The copy is made read-only with chmod. Tests often run as root, for whom chmod stops no write:
then the check runs in a subprocess under the unprivileged user 'nobody' (its HOME and the
MLMCOURSE_* folders in a temporary folder it owns), or is skipped when that is not possible."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

# the notebooks' key cells, run with the copy's notebooks folder as the working directory
CELLS = r'''
import os, sys
from pathlib import Path

copy = Path(os.environ["COURSE_COPY"])
try:  # the check proves something only if the copy really is read-only for this process
    (copy / "mlmcourse" / "probe.txt").write_text("x")
except PermissionError:
    pass
else:
    sys.exit("the copy is writable for this process: the check would prove nothing")
import mlmcourse
assert Path(mlmcourse.__file__).resolve().is_relative_to(copy), mlmcourse.__file__

from mlmcourse import anova, complete_cases, lmer, load_classroom, ranova
dat = load_classroom()                                                    # 00_start_here
fit3 = lmer("mathkind ~ ses + (1|schoolid/classid)", data=dat)            # 02_constructing_effects
text = str(fit3.summary())
assert "12038.4" in text, text
fit3._repr_html_()
lmer_fit2 = lmer("mathgain ~ (1|schoolid)", data=dat)                     # 03_model_selection
lmer_fit3 = lmer("mathgain ~ (1|schoolid/classid)", data=dat)
str(ranova(lmer_fit3))
str(anova(lmer_fit2, lmer_fit3, refit=False))
in_sample = complete_cases(dat, "mathgain ~ ses + mathknow")
fit7 = lmer("mathgain ~ 1 + (1|schoolid/classid)", data=dat, subset=in_sample)
fit8 = lmer("mathgain ~ ses + mathknow + (1|schoolid/classid)", data=dat, subset=in_sample)
str(anova(fit7, fit8, refit=True))

from mlmcourse.quiz import Quiz                                           # 05_quiz
quiz = Quiz(chapter=2)
quiz.header()
quiz.section(quiz.bank.sections[0].id)
question = next(q for q in quiz.bank.questions if q.kind in ("numeric", "open"))
quiz.view(question.id).input.value = "0.25"                               # the student types
saved = quiz.store.flush()
assert Path(saved).resolve().is_relative_to(Path(os.environ["HOME"]).resolve()), saved
quiz.export_panel()

from mlmcourse.explore import icc_explorer, noise_explorer                # 01, 02
explorers = [icc_explorer(), noise_explorer(dat)]
assert all(e.png for e in explorers)
quiz.store.close()
print("CELLS RAN; answers saved to", saved)
'''


def _snapshot(folder: Path) -> dict:
    out = {}
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        out[str(path.relative_to(folder))] = (st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return out


def _chmod_tree(folder: Path, writable: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        mode = (mode | stat.S_IWUSR) if writable else (mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        os.chmod(path, mode)


def _launcher() -> tuple[list[str], dict, tuple[int, int] | None]:
    """How to start the check so that chmod binds it: (command prefix, subprocess options, the
    (uid, gid) that must own the writable home). As root, chmod stops no write: then run as the
    user 'nobody' when it can start this Python, else as root without its capabilities
    (setpriv: root then obeys file permissions like any user), else skip."""
    if os.geteuid() != 0:
        return [], {}, None
    if not hasattr(os, "setuid"):
        pytest.skip("running as root, where chmod does not stop writes, and os.setuid is not available")
    try:
        import pwd
        nobody = pwd.getpwnam("nobody")
        as_nobody = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        probe = subprocess.run([sys.executable, "-c", "import mlmcourse"], capture_output=True,
                               timeout=120, cwd="/", **as_nobody)
        if probe.returncode == 0:
            return [], as_nobody, (nobody.pw_uid, nobody.pw_gid)
        why = f"user 'nobody' cannot run {sys.executable} with the course installed"
    except (ImportError, KeyError):
        why = "there is no user 'nobody'"
    except OSError as exc:  # e.g. the interpreter lives under /root (mode 700)
        why = f"user 'nobody' cannot start {sys.executable} ({exc.strerror})"
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, "--inh-caps=-all", "--bounding-set=-all", "--"], {}, None
    pytest.skip(f"running as root, where chmod does not stop writes; {why}, and setpriv (to drop "
                "root's capabilities) is not installed")


@pytest.fixture
def course_copy():
    if not (DATA / "classroom.csv").exists():
        pytest.skip(f"the course data is not at {DATA}")
    base = Path(tempfile.mkdtemp(prefix="mlmcourse-readonly-"))
    os.chmod(base, 0o755)  # tmp_path is private to root: the other user must reach the copy
    course = base / "course"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(ROOT / "mlmcourse", course / "mlmcourse", ignore=ignore)
    shutil.copytree(ROOT / "notebooks", course / "notebooks", ignore=ignore)
    (base / "shared").mkdir()
    (base / "shared" / "data").symlink_to(DATA)  # the loader looks in <course>/../shared/data
    home = base / "home"
    home.mkdir()
    yield base, course, home
    _chmod_tree(course, writable=True)
    shutil.rmtree(base, ignore_errors=True)


def test_notebook_cells_run_from_a_read_only_copy_and_write_nothing_there(course_copy):
    _, course, home = course_copy
    prefix, options, owner = _launcher()
    if owner is not None:
        for path in [home, *home.rglob("*")]:
            os.chown(path, *owner)
    _chmod_tree(course, writable=False)
    before = _snapshot(course)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLMCOURSE_", "XDG_", "PYTHON"))}
    env.update({
        "HOME": str(home), "COURSE_COPY": str(course), "PYTHONPATH": str(course),
        "MLMCOURSE_ANSWERS_DIR": str(home / "answers"), "MLMCOURSE_CACHE_DIR": str(home / "cache"),
        "MPLCONFIGDIR": str(home / "matplotlib"), "MPLBACKEND": "Agg",
    })
    proc = subprocess.run([*prefix, sys.executable, "-c", CELLS], cwd=course / "notebooks", env=env,
                          capture_output=True, text=True, timeout=900, **options)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    assert "CELLS RAN" in proc.stdout
    assert _snapshot(course) == before  # nothing written, changed or added inside the copy
    assert any((home / "answers").rglob("*")), "the answers went to the per-user folder"
