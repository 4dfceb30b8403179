"""Killed and concurrent kernels, as real processes.

The last committed version survives a kill at any moment, two kernels writing at once both keep
everything, an answer is on disk within 0.3 s.
"""
from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import platformdirs
import pytest
from store_helpers import answers_on_disk, versions_on_disk

from mlmcourse.quiz import answerdb
from mlmcourse.quiz.store import AnswerStore

PROJECT = Path(__file__).resolve().parents[2]


# The child loads the store on its own (python -S, the store's modules only): the package's top
# (the model engine) takes 1.5 s to import, the site-packages' start-up files another 0.1 s.
BOOT = textwrap.dedent(f"""
    import sys, types
    sys.path[:0] = [{str(Path(platformdirs.__file__).parent.parent)!r}]
    for name, sub in (("mlmcourse", ""), ("mlmcourse.quiz", "quiz")):
        module = types.ModuleType(name)
        module.__path__ = [{str(PROJECT / "mlmcourse")!r} + ("/" + sub if sub else "")]
        sys.modules[name] = module
    from pathlib import Path
    from mlmcourse.quiz.store import AnswerStore
    store = AnswerStore(2, path=Path(sys.argv[1]))
""")


def _child(code: str, *args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-S", "-c", BOOT + textwrap.dedent(code), *map(str, args)],
                            stdout=subprocess.PIPE, text=True, **kwargs)


def _text(n: int) -> str:
    return f"{n}:" + "y" * (n * 37 % 2000)  # sizes vary: saves spread over one or several pages


TYPIST = """
    n = int(store.get("1-A").get("answer", "0:").split(":")[0])
    print("STARTED", flush=True)
    while True:
        n += 1
        store.update("1-A", answer=f"{n}:" + "y" * (n * 37 % 2000), kind="open")
        print(n, flush=True)  # after update returned: this version is committed
"""


def _check_after_kill(path: Path, printed: list[int], before: int) -> int:
    """Check that the database opens undamaged with the last committed version and all before it.

    Return the current version.
    """
    store = AnswerStore(2, path=path)  # opens, checks every row's CRC
    assert store.notices == [] and store.damaged == []
    committed = printed[-1] if printed else before
    current = int(store.get("1-A")["answer"].split(":")[0])
    assert current in (committed, committed + 1)  # + 1: committed, killed before it printed
    versions = versions_on_disk(path)  # a burst of typing keeps its last version (see store.BURST_GAP)
    assert [v["version"] for v in versions] == list(range(1, len(versions) + 1))
    typed = [int(v["answer"].split(":")[0]) for v in versions]
    assert typed == sorted(set(typed)) and typed[-1] == current  # in typing order, the last one there
    assert all(v["answer"] == _text(n) for v, n in zip(versions, typed))  # each one whole
    store.close()
    return current


@pytest.mark.slow
def test_killed_at_random_moments_keeps_the_last_committed_version(tmp_path):
    """30 kills, two typists at a time (each with its own database) to use both cores."""
    rng = random.Random(20261201)
    paths = [tmp_path / "one" / "answers.sqlite3", tmp_path / "two" / "answers.sqlite3"]
    latest = [0, 0]
    for _round in range(15):
        procs = [_child(TYPIST, path) for path in paths]
        try:
            assert [p.stdout.readline().strip() for p in procs] == ["STARTED", "STARTED"]
            printed = []
            for proc in procs:
                time.sleep(rng.uniform(0.0, 0.1))  # somewhere in the middle of a save
                proc.send_signal(signal.SIGKILL)
                printed.append([int(line) for line in proc.stdout.read().split() if line.isdigit()])
        finally:
            for proc in procs:
                proc.kill()
                proc.wait(timeout=10)
        assert [p.returncode for p in procs] == [-signal.SIGKILL] * 2
        latest = [_check_after_kill(path, out, before) for path, out, before in zip(paths, printed, latest)]
    assert min(latest) > 15  # the kills did land in the middle of series of saves
    for path in paths:
        assert sorted(p.name for p in path.parent.iterdir()) == ["answers.sqlite3"]


WRITER = """
    import sys
    who, n = sys.argv[2], int(sys.argv[3])
    print("READY", flush=True)
    sys.stdin.readline()  # both start together
    for i in range(1, n + 1):
        store.update("1-A", answer=f"{who}:{i}", kind="open")  # the same question
        store.update(f"own-{who}", answer=f"{who}:{i}", kind="open")  # a question of its own
    store.set_student(who)
    print("DONE" if store.last_error is None else store.last_error, flush=True)
"""


@pytest.mark.slow
def test_two_kernels_writing_at_once_both_keep_everything(tmp_path):
    """Keep every version when two kernels write at once."""
    path = tmp_path / "answers.sqlite3"
    AnswerStore(2, path=path).close()
    n = 100
    procs = [_child(WRITER, path, who, n, stdin=subprocess.PIPE) for who in ("A", "B")]
    try:
        assert [p.stdout.readline().strip() for p in procs] == ["READY", "READY"]
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        assert [p.stdout.readline().strip() for p in procs] == ["DONE", "DONE"]
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=10)
    def typed(answers, who):
        return [int(a.split(":")[1]) for a in answers if a.startswith(who)]

    for who in ("A", "B"):  # one burst of typing: its last version is kept (see store.BURST_GAP)
        own = typed(answers_on_disk(path, f"own-{who}"), who)
        assert own == sorted(set(own)) and own[-1] == n
    shared = answers_on_disk(path)
    assert len(set(shared)) == len(shared)
    for who in ("A", "B"):  # each kernel's versions, in the order it typed them, its last one there;
        mine = typed(shared, who)  # a burst never replaces the other kernel's version
        assert mine == sorted(set(mine)) and mine[-1] == n
    assert sorted(answers_on_disk(path, answerdb.STUDENT)) == ["A", "B"]
    store = AnswerStore(2, path=path)
    assert store.get("1-A")["answer"] == shared[-1] and store.notices == []


KEYSTROKE = """
    import sys, time
    print("READY", flush=True)
    store.update("1-A", answer=sys.stdin.readline().strip(), kind="open")
    time.sleep(60)
"""


@pytest.mark.slow
def test_an_answer_is_on_disk_within_0_3_s(tmp_path):
    """Put an answer on disk within 0.3 s of its keystroke."""
    path = tmp_path / "answers.sqlite3"
    proc = _child(KEYSTROKE, path, stdin=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == "READY"
        proc.stdin.write("typed just before the kernel died\n")
        proc.stdin.flush()  # the keystroke reaches the kernel
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    assert AnswerStore(2, path=path).get("1-A")["answer"] == "typed just before the kernel died"
