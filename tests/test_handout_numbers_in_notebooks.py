"""Every number the handout prints appears, at the handout's precision and in its order, in the
output of the notebook cell that computes it (executed notebooks, as committed).

The lists below are the numbers of the handout's R output (summary(lm), the five summary(lmer),
ranova x2, anova x2) and of its prose (constructed SDs, sigma_zeta hat), block by block, with
the notebook and the cell (a piece of its code) that must show them. Numbers that are only part
of labels (1Q, 3Q, "(1 | schoolid)") and the significance legend are left out. The notebooks are
read as committed: run `make execute` after changing code, or this test reports the numbers that
moved.
"""
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NB = {"01": "01_conceptualizations.ipynb", "02": "02_constructing_effects.ipynb",
      "03": "03_model_selection.ipynb", "04": "04_appendix_and_coding.ipynb"}

LMER_FIT1 = ["12038.7", "-4.7423", "-0.5716", "0.0188", "0.6343", "3.7763", "309", "17.58", "1308",
             "36.16", "1190", "107", "465.746", "2.058", "98.752", "226.337", "2e-16", "10.722",
             "1.589", "1187.995", "6.747", "2.35e-11", "0.034"]
LMER_FIT4 = ["10684.6", "-4.3702", "-0.6106", "-0.0342", "0.5357", "5.5805", "104.64", "10.229",
             "92.11", "9.598", "1018.67", "31.917", "1081", "285", "105", "57.8169", "1.5468",
             "91.6576", "37.379", "<2e-16", "0.8847", "1.4602", "1039.2449", "0.606", "0.5447",
             "2.4341", "1.3093", "211.2083", "1.859", "0.0644", "0.039", "0.009", "-0.042"]

HANDOUT = {
    "lm(mathkind ~ ses) summary": ("02", 'lm("mathkind ~ ses", data=dat).summary()', [
        "-174.835", "-26.399", "1.065", "26.529", "161.150", "466.845", "1.162", "401.70", "<2e-16",
        "14.359", "1.568", "9.16", "40.08", "1188", "0.06596", "0.06518", "83.9", "2.2e-16"]),
    "SD of school mean residuals": ("02", "sns.kdeplot(res1mean, bw_adjust=0.8", ["22.43"]),
    "lmer.fit1: mathkind ~ ses + (1|schoolid)": ("02", 'lmer_fit1 = lmer("mathkind ~ ses + (1|schoolid)"', LMER_FIT1),
    "sigma_zeta hat (the handout's blank)": ("02", 'sigma_zeta_hat = vc1.loc["schoolid"', ["17.58"]),
    "SD of constructed classroom effects": ("02", "sch_res1 = ", ["22.12"]),
    "fit3: mathkind ~ ses + (1|schoolid/classid)": ("02", 'fit3 = lmer("mathkind ~ ses + (1|schoolid/classid)"', [
        "12038.4", "-4.7444", "-0.5722", "0.0112", "0.6320", "3.7507", "20.44", "4.521", "301.52",
        "17.364", "1294.08", "35.973", "1190", "312", "107", "465.749", "2.058", "99.030", "226.344",
        "2e-16", "10.684", "1.589", "1187.053", "6.725", "2.72e-11", "0.035"]),
    "ranova(lmer.fit2)": ("03", "ranova(lmer_fit2)", ["-5888.3", "11783", "-5904.8", "11814", "32.881", "9.796e-09"]),
    "anova(lmer.fit2, lmer.fit3, refit=F)": ("03", "anova(lmer_fit2, lmer_fit3", [
        "11783", "11798", "-5888.3", "11777", "11797", "-5884.4", "11769", "7.9048", "0.00493"]),
    "ranova(lmer.fit3)": ("03", "ranova(lmer_fit3)", [
        "-5884.4", "11777", "-5888.3", "11783", "7.9048", "0.004930", "7.8875", "0.004978"]),
    "lmer.fit4: mathgain ~ ses + mathknow + (1|schoolid/classid)": ("03", "lmer_fit4 = lmer(", LMER_FIT4),
    "fit7: mathgain ~ 1 + (1|schoolid/classid), subset": ("03", "fit7 = lmer(", [
        "10693.2", "-4.3056", "-0.6115", "-0.0396", "0.5509", "5.6208", "116.9", "10.813", "73.4",
        "8.567", "1021.0", "31.953", "1081", "285", "105", "57.761", "1.499", "95.000", "38.54",
        "<2e-16"]),
    "fit8 (same as lmer.fit4, on the subset)": ("03", "fit8 = lmer(", LMER_FIT4),
    "anova(fit7, fit8, refit=T)": ("03", "anova(fit7, fit8, refit=True)", [
        "10704", "10724", "-5347.9", "10696", "10734", "-5346.1", "10692", "3.5921", "0.166"]),
    "2.3 example: lmer.fit1 again": ("04", "lmer_fit1.summary()", LMER_FIT1),
}

_TOKEN = re.compile(r"<?-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def cell_text(cell) -> str:
    """The text a reader sees in one code cell's outputs (streams and text/plain results)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def code_of(cell) -> str:
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("#"))


def printing_cell(nb, snippet: str):
    """The first code cell whose code (comments aside) contains ``snippet``."""
    for cell in nb.cells:
        if cell.cell_type == "code" and snippet in code_of(cell):
            return cell
    return None


def missing_numbers(expected, text: str) -> list[str]:
    """The expected numbers not found, in order, among the text's numbers (a subsequence)."""
    have = _TOKEN.findall(text)
    missing, pos = [], 0
    for n in expected:
        try:
            pos = have.index(n, pos) + 1
        except ValueError:
            missing.append(n)
    return missing


@pytest.fixture(scope="module")
def notebooks():
    return {key: nbformat.read(NOTEBOOKS / name, as_version=4) for key, name in NB.items()}


@pytest.mark.parametrize("block", list(HANDOUT))
def test_handout_numbers_appear_in_the_cell_that_prints_them(block, notebooks):
    nb, snippet, expected = HANDOUT[block]
    cell = printing_cell(notebooks[nb], snippet)
    assert cell is not None, f"{block}: no code cell of {NB[nb]} contains {snippet!r}"
    missing = missing_numbers(expected, cell_text(cell))
    assert not missing, f"{block}: the handout prints {missing} (in this order), not in the output of {snippet!r}"


def test_notebooks_are_executed():
    for name in NB.values():
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(c.get("execution_count") for c in code), f"{name} is not fully executed"
        errors = [o for c in code for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"{name} has an error output: {errors[0].ename}"


def test_the_check_detects_a_changed_number():
    text = "REML criterion at convergence: 12038.7\n schoolid (Intercept)  309     17.58"
    assert missing_numbers(["12038.7", "17.58"], text) == []
    assert missing_numbers(["12038.7", "17.58"], text.replace("17.58", "17.59")) == ["17.58"]
    # precision matters: 17.580 or 117.58 is not the handout's 17.58
    assert missing_numbers(["17.58"], "17.580 117.58") == ["17.58"]
    assert missing_numbers(["<2e-16"], "< 2e-16") == ["<2e-16"]
    # order matters: numbers are read in the order the handout prints them
    assert missing_numbers(["309", "17.58"], "17.58 309") == ["17.58"]
