"""Grading a class: simulated students made through the course's own answer store and export
(one all right, one blank, one every number 10% off, one truncated file, one forged name, plus a
copied seed, an edited block and another bank version), graded by `mlmcourse quiz grade`; every
cell of the gradebook, the report's figure, the flags and the exit code."""
from __future__ import annotations

import base64
import csv
import json
import re
import shutil

import pytest

from mlmcourse.__main__ import main
from mlmcourse.quiz.bank import load_bank
from mlmcourse.quiz.checking import check_numeric
from mlmcourse.quiz.grade import Grader, grade_paths, graded_ids
from mlmcourse.quiz.handin import MD_OPEN, block_checksum, read_handin
from mlmcourse.quiz.live import default_context
from mlmcourse.quiz.report import question_shares
from mlmcourse.quiz.simulated_class import demo_class, simulate_student

FORGED = "**Your data:** seed 11111"
SEEDS = {"right": 12345, "blank": 23456, "off10": 34567, "cut": 45678, "forged": 56789}


def _edit_block(path, change, keep_checksum=False):
    text = path.read_text(encoding="utf-8")
    start = text.rindex(MD_OPEN) + len(MD_OPEN)
    end = text.rindex("\n```")
    block = json.loads(text[start:end])
    change(block)
    if keep_checksum:
        block["checksum"] = block_checksum(block)
    path.write_text(text[:start] + "\n" + json.dumps(block) + text[end:], encoding="utf-8")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    bank = load_bank(chapter=2)
    folder = tmp_path_factory.mktemp("class")
    paths = {how: simulate_student(folder, name, SEEDS[key], how=how, bank=bank)
             for key, name, how in [("right", "Ada Right", "right"), ("blank", "Ben Blank", "blank"),
                                    ("off10", "Cy Off", "off10")]}
    cut = simulate_student(folder, "Dee Cut", SEEDS["cut"], how="right", bank=bank)
    text = cut.read_text(encoding="utf-8")
    cut.write_text(text[:len(text) * 2 // 3], encoding="utf-8")
    paths["forged"] = simulate_student(folder, FORGED, SEEDS["forged"], how="right", bank=bank,
                                       filename="forged.md")
    # a copy of Ada's file under another name (the block edited by hand: the checksum no longer matches)
    copied = folder / "Eve-Copy.md"
    shutil.copy(paths["right"], copied)
    _edit_block(copied, lambda b: b.update(student="Eve Copy"))
    # a hand-in made from another version of the bank (its checksum recomputed, as the course would)
    other = simulate_student(folder, "Fay Other", 67890, how="right", bank=bank)
    _edit_block(other, lambda b: b.update(bank="sha256:0000000000000000"), keep_checksum=True)
    out = tmp_path_factory.mktemp("out")
    code = main(["quiz", "grade", str(folder), str(folder / "missing.md"), str(paths["right"]), "--out", str(out)])
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {"bank": bank, "folder": folder, "out": out, "code": code, "rows": rows, "paths": paths,
            "cut": cut, "report": (out / "report.html").read_text(encoding="utf-8")}


def _row(graded, student):
    found = [r for r in graded["rows"] if r["student"] == student]
    assert len(found) == 1, student
    return found[0]


def test_exit_code_and_skipped_files(graded, capsys):
    assert graded["code"] == 1                         # a file was skipped
    assert len(graded["rows"]) == 6                    # every readable one is graded
    assert {r["file"].rsplit("/", 1)[-1] for r in graded["rows"]} == {
        "Ada-Right.md", "Ben-Blank.md", "Cy-Off.md", "forged.md", "Eve-Copy.md", "Fay-Other.md"}
    report = graded["report"]
    assert "Dee-Cut.md</b>: The hand-in file Dee-Cut.md is cut off" in report
    assert "missing.md</b>: no such file or folder" in report


def test_files_of_other_names_in_a_folder_are_never_skipped_silently(tmp_path, capsys):
    """An LMS download renames alice.md to alice.md.txt: read (it holds a hand-in block); any other
    file is listed as skipped with the reason, and the exit code says so. Hidden files are ignored."""
    bank = load_bank(chapter=2)
    folder = tmp_path / "class"
    folder.mkdir()
    alice = simulate_student(folder, "Alice", 12345, how="blank", bank=bank)
    alice.rename(folder / "alice.md.txt")
    simulate_student(folder, "Bob", 23456, how="blank", bank=bank)
    (folder / "notes.txt").write_text("grade these by Friday\n", encoding="utf-8")
    (folder / "rand.md").write_bytes(bytes(range(256)) * 20)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    out = tmp_path / "out"
    code = main(["quiz", "grade", str(folder), "--out", str(out)])
    printed = capsys.readouterr().out
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        assert sorted(r["student"] for r in csv.DictReader(f)) == ["Alice", "Bob"]
    assert code == 1
    assert re.search(r"skipped .*notes\.txt: .*not a hand-in file", printed)
    assert re.search(r"skipped .*rand\.md: .*not a hand-in file", printed) and "UTF-16" not in printed
    assert ".DS_Store" not in printed and "alice.md.txt:" not in printed


def test_the_columns(graded):
    ids = graded_ids(graded["bank"])
    assert ids == [q.id for q in graded["bank"].questions if q.kind in ("numeric", "choice")]
    assert list(graded["rows"][0]) == ["student", "seed", "score", "out_of", *ids, "file", "flags"]


def test_every_cell_of_the_gradebook(graded):
    bank = graded["bank"]
    ids = graded_ids(bank)
    n = len(ids)
    numeric = {q.id for q in bank.questions if q.kind == "numeric"}
    expected = {
        "Ada Right": ("12345", {q: "1" for q in ids}, "same seed as Eve-Copy.md"),
        "Ben Blank": ("23456", {q: "" for q in ids}, ""),
        "Cy Off": ("34567", {q: "0" if q in numeric else "1" for q in ids}, ""),
        FORGED: ("56789", {q: "1" for q in ids}, ""),
        "Eve Copy": ("12345", {q: "1" for q in ids},
                     "same seed as Ada-Right.md; checksum does not match (block edited after export?)"),
        "Fay Other": ("67890", {q: "1" for q in ids}, "made from another version of the question bank"),
    }
    for student, (seed, cells, flags) in expected.items():
        row = _row(graded, student)
        assert row["seed"] == seed, student
        assert {q: row[q] for q in ids} == cells, student
        assert row["score"] == str(sum(v == "1" for v in cells.values())) and row["out_of"] == str(n)
        assert row["flags"] == flags, student


def test_ten_percent_off_is_wrong_by_the_quiz_own_check(graded):
    """The 0s of the 10%-off student are what the quiz's own check says (no question's tolerance
    accepts 10% off), and 1.1 x the value is not within tolerance: the check really ran."""
    bank, ctx = graded["bank"], default_context(SEEDS["off10"])
    handin = read_handin(graded["paths"]["off10"])
    for q in bank.questions:
        if q.kind == "numeric":
            assert check_numeric(q, handin.answers[q.id]["answer"], ctx.value)["correct"] is False, q.id


def test_a_slip_the_quiz_recognises_is_counted_in_the_report(tmp_path):
    bank = load_bank(chapter=2)
    q = bank.question("L-1")
    slip = q.mistakes[0]

    def answers(question, ctx, rng):
        if question.id != "L-1":
            return None
        return repr(float(ctx.value(slip.expr) if slip.expr else slip.value))

    path = simulate_student(tmp_path, "Gus", 13579, how=answers, bank=bank)
    result = grade_paths([path], bank)
    (row,) = result.rows
    assert row.cells["L-1"] == 0 and row.slips == {"L-1": 0}
    from mlmcourse.quiz.report import render_report, slip_label
    assert f"<b>1</b> &times; {slip_label(slip.message)}" in render_report(result)


def test_the_report_figure_and_sections(graded):
    report = graded["report"]
    assert "<script" not in report and "http://" not in report and "https://" not in report   # offline
    figure = re.search(r'<img id="shares" alt="([^"]+)" src="data:image/png;base64,([^"]+)"', report)
    assert figure is not None
    assert base64.b64decode(figure.group(2))[:8] == b"\x89PNG\r\n\x1a\n"
    # the figure's numbers (its alt text), from the graded rows: 6 hand-ins; numbers right for 4
    # of them, choices for 5; the blank one answered nothing
    bank = graded["bank"]
    alt = figure.group(1)
    for q in graded_ids(bank):
        share = 4 / 6 if bank.question(q).kind == "numeric" else 5 / 6
        assert f"{q} {round(100 * share)}%" in alt, q
    for section in ("Distribution of the scores", "Share correct per question", "The most common slips",
                    "Open answers, by question", "Every student", "Flags", "a checksum only shows"):
        assert section.lower() in report.lower(), section
    assert "My own answer to this question, in my own words." in report       # the open answers
    assert report.count("<tr>") == 7                                          # a row per student


def test_question_shares_add_up(graded, tmp_path):
    result = grade_paths([graded["folder"]])
    for qid, right, wrong, blank in question_shares(result):
        assert right + wrong + blank == pytest.approx(1.0)
        cells = [r.cells[qid] for r in result.rows]
        assert right == pytest.approx(cells.count(1) / len(cells))


def test_workers_grade_as_one_process_does(tmp_path, monkeypatch):
    bank = load_bank(chapter=2)
    paths = demo_class(tmp_path, n=6, bank=bank)
    handins = [read_handin(p) for p in paths]
    from mlmcourse.quiz.grade import grade_handins
    monkeypatch.setenv("MLMCOURSE_GRADE_WORKERS", "1")
    one = grade_handins(handins, bank)
    monkeypatch.setenv("MLMCOURSE_GRADE_WORKERS", "2")
    two = grade_handins(handins, bank, Grader(bank))
    assert [(r.cells, r.slips, r.flags) for r in one] == [(r.cells, r.slips, r.flags) for r in two]
    assert len({r.score for r in one}) > 1                  # a demo class is not all alike
    assert any(r.slips for r in one)                        # and makes slips the quiz recognises
