"""The hand-in's machine-readable block, the seed's validation and the command line's refusals."""
from __future__ import annotations

import json
import re

import pytest

from mlmcourse.__main__ import main
from mlmcourse.errors import CourseError
from mlmcourse.quiz.bank import load_bank
from mlmcourse.quiz.handin import MD_OPEN, block_checksum, read_handin, seed_of_handin
from mlmcourse.quiz.simulated_class import simulate_student
from mlmcourse.quiz.store import SEED, AnswerStore
from mlmcourse.quiz.variants import check_seed

FORGED = "**Your data:** seed 11111"


@pytest.fixture(scope="module")
def bank():
    return load_bank(chapter=2)


def _one_paragraph(message: str) -> None:
    assert "\n" not in message.strip() and "Traceback" not in message


def _blank(folder, name, seed, bank, fmt="md"):
    return simulate_student(folder, name, seed, how="blank", bank=bank, fmt=fmt)


def _block(path) -> dict:
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.rindex(MD_OPEN) + len(MD_OPEN):text.rindex("\n```")])


def test_the_block_holds_ids_answers_verdicts_seed_bank_and_checksum(tmp_path, bank):
    path = simulate_student(tmp_path, "Ada", 12345, how="right", bank=bank)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# W2 Activity Form") and "**Your data:** seed 12345" in text   # the human part stays
    block = _block(path)
    assert [a["id"] for a in block["answers"]] == [q.id for q in bank.questions]
    assert block["seed"] == 12345 and block["student"] == "Ada" and block["bank"].startswith("sha256:")
    assert block["checksum"] == block_checksum(block)
    auto = [a for a in block["answers"] if a["kind"] != "open"]
    assert auto and all(a["checked"] is True and a["correct"] is True for a in auto)
    h = read_handin(path)
    assert h.seed == 12345 and h.checksum_ok and h.answers["1-B.mc"]["answer"] == bank.question("1-B.mc").answer


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_forged_name_never_changes_how_the_file_is_read(tmp_path, bank, fmt, capsys):
    forged = FORGED if fmt == "md" else '<b>Your data:</b> seed <b class="seed">11111</b>'
    fence = f"\n{MD_OPEN}\n" + '{"format": 1, "seed": 11111}\n```\n'
    path = _blank(tmp_path, forged + fence, 23456, bank, fmt=fmt)
    assert read_handin(path).seed == 23456 and seed_of_handin(path) == 23456
    assert read_handin(path).student == (forged + fence).strip()
    assert main(["quiz", "answers", "--handin", str(path)]) == 0
    out = capsys.readouterr().out
    assert "expected answers for seed 23456" in out and "11111" not in out


def test_an_older_hand_in_is_read_as_far_as_it_can_be(tmp_path, bank):
    path = _blank(tmp_path, "Old", 34567, bank)
    text = path.read_text(encoding="utf-8")
    old = tmp_path / "old.md"
    old.write_text(text[:text.index("\n---\n")], encoding="utf-8")           # as the course wrote it before
    assert seed_of_handin(old) == 34567
    with pytest.raises(CourseError, match="older version of the course") as err:
        read_handin(old)
    _one_paragraph(str(err.value))
    forged = tmp_path / "old-forged.md"      # a name with a line break could write a second seed line
    forged.write_text(text[:text.index("\n---\n")].replace("**Name:** Old", "**Name:** X\n" + FORGED),
                      encoding="utf-8")
    with pytest.raises(CourseError, match="more than one seed"):
        seed_of_handin(forged)


def test_a_truncated_hand_in_says_it_is_cut_off(tmp_path, bank):
    path = _blank(tmp_path, "Cut", 45678, bank)
    text = path.read_text(encoding="utf-8")
    for cut in (len(text) - 40, text.index(MD_OPEN) - 5):
        path.write_text(text[:cut], encoding="utf-8")
        with pytest.raises(CourseError, match="cut off") as err:
            read_handin(path)
        _one_paragraph(str(err.value))


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_recognised_by_its_bytes(tmp_path, bank, encoding):
    path = _blank(tmp_path, "Zoë", 45678, bank)
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    with pytest.raises(CourseError, match="UTF-16"):
        read_handin(path)


def test_random_bytes_are_not_a_hand_in_file_not_utf16(tmp_path):
    import random
    path = tmp_path / "rand.md"
    path.write_bytes(random.Random(3).randbytes(5000))
    with pytest.raises(CourseError, match="not a hand-in file") as err:
        read_handin(path)
    assert "UTF-16" not in str(err.value) and "Latin-1" not in str(err.value)
    _one_paragraph(str(err.value))


def test_utf16_and_latin1_hand_ins_get_a_clear_message(tmp_path, bank, capsys):
    path = _blank(tmp_path, "Zoë", 45678, bank)
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("utf-16"))
    with pytest.raises(CourseError, match="UTF-16"):
        read_handin(path)
    assert main(["quiz", "answers", "--handin", str(path)]) == 2
    assert "UTF-16" in capsys.readouterr().err
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(CourseError, match=r"not UTF-8.*Latin-1") as err:
        read_handin(path)
    _one_paragraph(str(err.value))


@pytest.mark.parametrize("bad", ["5", "99999999999999999999", "9999", "100000", "-12345", "12.5", "abc"])
def test_seeds_outside_10000_to_99999_are_refused_everywhere(tmp_path, bank, bad, capsys):
    with pytest.raises(CourseError, match="from 10000 to 99999") as err:
        check_seed(bad)
    _one_paragraph(str(err.value))
    assert main(["quiz", "answers", "--seed", bad]) == 2                     # typed
    err_text = capsys.readouterr().err
    assert "from 10000 to 99999" in err_text and "--seed" in err_text
    path = _blank(tmp_path, "Ed", 12345, bank)                               # edited into a hand-in
    text = path.read_text(encoding="utf-8")
    written = bad if bad.lstrip("-").isdigit() else json.dumps(bad)
    path.write_text(text.replace('"seed": 12345', f'"seed": {written}'), encoding="utf-8")
    with pytest.raises(CourseError, match="from 10000 to 99999"):
        read_handin(path)
    assert main(["quiz", "answers", "--handin", str(path)]) == 2


def test_a_stored_seed_outside_the_range_is_not_used(tmp_path):
    store = AnswerStore(2, path=tmp_path / "a.sqlite3")
    store.update(SEED, answer=5, kind="seed")
    store.flush()
    assert store.seed is None
    assert 10000 <= store.ensure_seed() <= 99999
    store.close()


def test_command_line_refusals_are_one_paragraph_each(tmp_path, bank, monkeypatch, capsys):
    path = _blank(tmp_path, "Flo", 12345, bank)
    assert main(["quiz", "answers", "--seed", "12345", "--handin", str(path)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["answers", "export", "--out", "-"]) == 2
    assert "--out -" in capsys.readouterr().err
    a_file = tmp_path / "answers-folder"
    a_file.write_text("not a folder")
    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(a_file))
    for argv in (["answers", "export", "--out", str(tmp_path / "x.md")], ["answers", "where"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "is a file, not a folder" in err and "MLMCOURSE_ANSWERS_DIR" in err
        _one_paragraph(err.removeprefix("error: "))
    assert main(["quiz", "grade", str(path), "--out", str(a_file)]) == 2
    assert "is a file" in capsys.readouterr().err


def test_export_into_a_folder_uses_the_default_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "ans"))
    folder = tmp_path / "out"
    folder.mkdir()
    assert main(["answers", "export", "--out", str(folder), "--name", "Gil"]) == 0
    assert (folder / "W2-Activity-Form-Gil.md").exists()
    assert re.search(r"written to .*W2-Activity-Form-Gil\.md", capsys.readouterr().out)


def test_a_hand_in_saved_with_windows_line_ends_reads_the_same(tmp_path, bank):
    path = simulate_student(tmp_path, "Win", 24680, how="right", bank=bank)
    before = read_handin(path)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    after = read_handin(path)
    assert after.answers == before.answers and after.seed == 24680 and after.checksum_ok
