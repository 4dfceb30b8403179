"""The lme4 formula parser: every form in the handout's coding section."""
import json
from pathlib import Path

import pandas as pd
import pytest

from mlmcourse.engine.formula import parse_formula
from mlmcourse.errors import CourseError


def terms(formula):
    return [(t.lhs, t.group) for t in parse_formula(formula).random]


@pytest.mark.parametrize("formula, expected", [
    ("y ~ x + (1 | school)", [("1", "school")]),
    ("y ~ x + (score | school)", [("score", "school")]),
    ("y ~ x + (1 + score | school)", [("1 + score", "school")]),
    ("y ~ x + (0 + score | school)", [("0 + score", "school")]),
    ("y ~ x + (-1 + score | school)", [("-1 + score", "school")]),
    ("y ~ x + (0 + score | school) + (1 | school)", [("0 + score", "school"), ("1", "school")]),
    ("y ~ x + (score | school/class)", [("score", "class:school"), ("score", "school")]),
    ("y ~ x + (score | school) + (score | school:class)", [("score", "school"), ("score", "school:class")]),
    ("y ~ x + (score1 | school) + (score2 | class)", [("score1", "school"), ("score2", "class")]),
    ("y ~ x + (1 | school) + (1 | class)", [("1", "school"), ("1", "class")]),
    ("y ~ (1 | a/b/c)", [("1", "c:b:a"), ("1", "b:a"), ("1", "a")]),
    ("y ~ x + (x || g)", [("1", "g"), ("0 + x", "g")]),
    ("y ~ x + (0 + x + z || g)", [("0 + x", "g"), ("0 + z", "g")]),
])
def test_random_terms_expand_as_lme4(formula, expected):
    assert terms(formula) == expected


def test_fixed_part_response_and_printing():
    spec = parse_formula("mathgain~ses+mathknow+(1|schoolid/classid)")
    assert spec.response == "mathgain"
    assert spec.fixed == "ses + mathknow"
    assert spec.printed == "mathgain ~ ses + mathknow + (1 | schoolid/classid)"
    assert spec.expanded == "mathgain ~ ses + mathknow + (1 | classid:schoolid) + (1 | schoolid)"


def test_intercept_only_fixed_part():
    assert parse_formula("mathgain ~ (1|schoolid)").fixed == "1"
    assert parse_formula("mathgain ~ (1|schoolid)").printed == "mathgain ~ (1 | schoolid)"
    assert parse_formula("mathgain ~ 1 + (1|schoolid)").printed == "mathgain ~ 1 + (1 | schoolid)"


def test_interactions_and_categoricals_stay_in_the_fixed_part():
    spec = parse_formula("y ~ C(sex) * ses + I(ses**2) + (1 | g)")
    assert spec.fixed == "C(sex) * ses + I(ses**2)"
    assert terms("y ~ C(sex) * ses + I(ses**2) + (1 | g)") == [("1", "g")]


@pytest.mark.parametrize("formula, message", [
    ("mathkind ses + (1|schoolid)",
     "The formula 'mathkind ses + (1|schoolid)' has no '~'. Write the outcome, then '~', then the "
     "predictors, e.g. 'mathkind ~ ses + (1 | schoolid)'."),
    ("mathkind ~ ses + (1|schoolid",
     "The formula 'mathkind ~ ses + (1|schoolid' has unbalanced parentheses (a '(' is never closed). "
     "Close each random-effects term, e.g. (1 | schoolid)."),
    ("mathkind ~ ses + 1|schoolid)",
     "The formula 'mathkind ~ ses + 1|schoolid)' has a ')' without a matching '('. Check the "
     "parentheses around each random-effects term, e.g. (1 | schoolid)."),
    ("mathkind ~ ses + ( | schoolid)",
     "The formula 'mathkind ~ ses + ( | schoolid)' has a random term ( | schoolid) with nothing before "
     "the bar. Say which effects vary, e.g. (1 | schoolid) for a random intercept."),
    ("mathkind ~ ses + (1 | )",
     "The formula 'mathkind ~ ses + (1 | )' has a random term (1 | ) with nothing after '|'. Name the "
     "grouping factor after the bar, e.g. (1 | schoolid)."),
    ("mathkind ~ ses + ()",
     "The formula 'mathkind ~ ses + ()' has an empty random-effects term '()'. Write what varies and "
     "by which group, e.g. (1 | schoolid)."),
    ("mathkind ~ ses + + (1|schoolid)",
     "The formula 'mathkind ~ ses + + (1|schoolid)' has an empty term (two '+' in a row, or a '+' at "
     "an end). Remove the extra '+'."),
    ("mathkind ~ ses + 1 | schoolid",
     "The formula 'mathkind ~ ses + 1 | schoolid' has a bar '|' outside parentheses in '1 | schoolid'. "
     "Put each random-effects term in parentheses, e.g. (1 | schoolid)."),
    ("~ ses", "The formula '~ ses' has no outcome before '~'. Put the outcome column first, e.g. 'mathkind ~ ses'."),
])
def test_typos_get_one_clear_message(formula, message):
    with pytest.raises(CourseError) as err:
        parse_formula(formula)
    assert str(err.value) == message


# ranova's "Model:" line, as lmerTest prints it (tests/reference/make_syntax_reference.R)
_REFERENCE = Path(__file__).resolve().parents[1] / "reference"
_SYNTAX_REF = json.loads((_REFERENCE / "syntax_reference.json").read_text())


@pytest.mark.parametrize("case", _SYNTAX_REF["ranova_model_line"], ids=lambda c: c["formula"])
def test_ranova_model_line_is_lmertests(case):
    assert parse_formula(case["formula"]).expanded == " ".join(case["model"])


def test_ranova_heading_prints_the_expanded_formula():
    from mlmcourse import lmer, ranova
    d = pd.read_csv(_REFERENCE / "data" / "Orthodont.csv")
    table = ranova(lmer("distance ~ age * Sex + (age | Subject)", data=d))
    assert table.heading.splitlines()[-1] == "distance ~ age + Sex + (age | Subject) + age:Sex"
