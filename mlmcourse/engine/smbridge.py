"""The same model in plain statsmodels: ``MixedLM`` with groups / re_formula / vc_formula.

statsmodels takes ONE grouping factor (``groups``); random effects of that factor go in
``re_formula`` (correlated) and anything nested in it goes in ``vc_formula`` (independent
variance components). Crossed factors need a single all-ones group. Some lme4 formulas have no
statsmodels equivalent: a correlated random slope on an inner (nested or crossed) factor.

``mixedlm_spec`` says it in those terms (``.call()``: the statsmodels code a student would
write); ``to_mixedlm`` builds that model from the course's own design through MixedLM's
constructor (endog, exog, groups, exog_re, ``VCSpec``), not from the formula text.
"""
from __future__ import annotations

import keyword
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import CourseError
from .design import Design, build_design, to_patsy
from .rsyntax import scale_calls


@dataclass
class MixedLMSpec:
    """The arguments of the statsmodels call that fits the same model: formula, groups, re_formula, vc_formula."""

    fixed: str                     # "mathkind ~ ses"
    groups: str                    # column name, or "_one" for crossed factors
    re_formula: str | None
    vc_formula: dict[str, str] = field(default_factory=dict)
    re_term: int | None = None                                 # design term behind re_formula
    vc_terms: dict[str, int] = field(default_factory=dict)     # vc name -> design term
    unexpressed: list[str] = field(default_factory=list)       # dropped columns no formula can drop

    def call(self, data_name: str = "dat", reml: bool = True) -> str:
        """Return the statsmodels code a student would write."""
        args = [repr(self.fixed), data_name, f"groups={self.groups!r}"]
        if self.re_formula is not None:
            args.append(f"re_formula={self.re_formula!r}")
        if self.vc_formula:
            args.append("vc_formula={" + ", ".join(f"{k!r}: {v!r}" for k, v in self.vc_formula.items()) + "}")
        prefix = f'{data_name}["_one"] = 1\n' if self.groups == "_one" else ""
        if self.unexpressed:
            prefix = (f"# lme4 drops {', '.join(self.unexpressed)} (a rank-deficient fixed part); this formula "
                      "cannot leave it out, so statsmodels keeps it\n") + prefix
        return prefix + "smf.mixedlm(" + ", ".join(args) + f").fit(reml={reml})"


def _col(name: str) -> str:
    """Return a column as patsy must see it: Q("class") for keywords and odd names."""
    return name if name.isidentifier() and not keyword.iskeyword(name) else f'Q("{name}")'


def _cannot(term_label: str, why: str) -> CourseError:
    return CourseError(
        f"statsmodels MixedLM cannot express the random term {term_label}: {why}. "
        "mlmcourse.lmer fits it (its own lme4-style engine); there is no plain statsmodels "
        "equivalent to show or to compare with."
    )


def _nested_in(design: Design, factors: tuple[str, ...], g: str) -> bool:
    """Return True when every level of ``factors`` lies within one level of ``g`` in the data."""
    if g in factors:
        return True
    return bool(design.data.groupby(list(factors))[g].nunique().max() == 1)


def _outer_factor(design: Design) -> str | None:
    """Return the factor statsmodels can use as ``groups``.

    One that has a term of its own and in which every other term's factor is nested (in the
    data: class ids unique across schools nest classrooms in schools even when the formula says
    (1|schoolid) + (1|classid)).
    """
    candidates = sorted({td.term.factors[0] for td in design.terms if len(td.term.factors) == 1},
                        key=lambda f: design.data[f].nunique())
    for g in candidates:
        if all(_nested_in(design, td.term.factors, g) for td in design.terms):
            return g
    return None


def mixedlm_spec(design: Design) -> MixedLMSpec:
    """Translate a design's random terms into statsmodels' groups / re_formula / vc_formula."""
    fixed, unexpressed = _fixed_formula(design)
    terms = design.terms
    g = _outer_factor(design)
    if g is not None:
        index = {id(td): i for i, td in enumerate(terms)}
        vc_terms: dict[str, int] = {}
        re_terms = [td for td in terms if td.term.group == g]
        re_formula = None
        vc: dict[str, str] = {}
        correlated = [td for td in re_terms if td.p > 1]
        if len(correlated) > 1:
            raise _cannot(correlated[1].term.label, "two correlated blocks on one factor")
        with_intercept = [td for td in re_terms if "(Intercept)" in td.cnames]
        main = correlated[0] if correlated else (with_intercept or re_terms)[0]
        re_formula = main.term.lhs
        for td in re_terms:
            if td is main:
                continue
            key = f"{g}_{'_'.join(td.cnames)}"
            vc[key] = td.term.lhs if td.term.lhs.replace(" ", "").startswith("0+") \
                else f"0 + {td.term.lhs}"
            vc_terms[key] = index[id(td)]
        for td in terms:
            if td.term.group == g:
                continue
            inner = [f for f in td.term.factors if f != g]
            if td.p > 1:
                raise _cannot(td.term.label, "a correlated random slope on a nested factor")
            key = ":".join(inner)
            effect = td.cnames[0]
            cat = " : ".join(f"C({_col(f)})" for f in inner)
            name = key if effect == "(Intercept)" else f"{key}_{effect}"
            vc[name] = f"0 + {cat}" if effect == "(Intercept)" else f"0 + {cat}:{effect}"
            vc_terms[name] = index[id(td)]
        return MixedLMSpec(fixed=fixed, groups=g, re_formula=to_patsy(re_formula),
                           vc_formula={k: to_patsy(v) for k, v in vc.items()},
                           re_term=index[id(main)], vc_terms=vc_terms, unexpressed=unexpressed)
    # crossed (or otherwise non-nested): one all-ones group, every term a variance component
    vc, vc_terms = {}, {}
    for i, td in enumerate(terms):
        if td.p > 1:
            raise _cannot(td.term.label, "a correlated random slope on crossed factors")
        cat = " : ".join(f"C({_col(f)})" for f in td.term.factors)
        effect = td.cnames[0]
        key = td.name if effect == "(Intercept)" else f"{td.name}_{effect}"
        vc[key] = f"0 + {cat}" if effect == "(Intercept)" else f"0 + {cat}:{effect}"
        vc_terms[key] = i
    return MixedLMSpec(fixed=fixed, groups="_one", re_formula="0", vc_formula=vc, vc_terms=vc_terms,
                       unexpressed=unexpressed)


def _fixed_formula(design: Design) -> tuple[str, list[str]]:
    """Return the fixed part as patsy reads it, and the dropped columns it cannot leave out.

    R's ``factor(x)`` is ``C(x)``; the columns lme4 dropped that are variables of their own are
    left out (``- ses2``); the other dropped columns (a level of a factor) are returned: no
    formula leaves them out.
    """
    spec = design.spec
    fixed = f"{spec.response} ~ {to_patsy(spec.fixed)}"
    unexpressed = []
    for name in design.dropped_columns:
        if name in design.data.columns:
            fixed += f" - {_col(name)}"
        else:
            unexpressed.append(name)
    return fixed, unexpressed


def _sorted_labels(groups: np.ndarray, name: str) -> list:
    """Return the groups' labels sorted, as MixedLM sorts them (it cannot sort numbers mixed with text)."""
    try:
        return sorted(set(groups))
    except TypeError:
        raise CourseError(
            f"statsmodels MixedLM sorts the labels of its groups, and '{name}' mixes numbers and text, "
            f"which Python cannot sort. Make them one kind, e.g. dat[\"{name}\"] = dat[\"{name}\"].astype(str), "
            "or leave out engine=\"statsmodels\" (the course's own engine fits it as it is).") from None


def _group_codes(groups: np.ndarray, labels: list) -> tuple[np.ndarray, list[np.ndarray]]:
    """Return each row's group, numbered as MixedLM numbers its groups, and each group's rows.

    Groups are numbered by sorted label; the row positions of each group are in data order.
    """
    codes = pd.Index(labels).get_indexer(groups)
    order = np.argsort(codes, kind="stable")
    return codes, np.split(order, np.cumsum(np.bincount(codes, minlength=len(labels)))[:-1])


def _level_names(design: Design, td, inner: list[str]) -> np.ndarray:
    """Return patsy's column name of each level of a term's factor.

    As in ``0 + C(classid)`` (or ``0 + C(classid):ses`` for a slope): 'C(classid)[160]', as
    from_formula names them.
    """
    levels, first = np.unique(td.codes, return_index=True)
    names = np.full(td.nlevels, "", dtype=object)
    values = [design.data[f].to_numpy()[first] for f in inner]
    effect = td.cnames[0]
    for k, code in enumerate(levels):
        name = ":".join(f"C({_col(f)})[{v[k]}]" for f, v in zip(inner, values))
        names[code] = name if effect == "(Intercept)" else f"{name}:{effect}"
    return names


def _vc_matrices(design: Design, td, g: str, group: np.ndarray, rows: list[np.ndarray]) -> tuple[list, list]:
    """One variance component, group by group (VCSpec's mats[k][i] and colnames[k][i]).

    A term of the groups factor itself (``0 + ses``) is its effect columns in the group's rows;
    a term of a nested (or, with one all-ones group, crossed) factor is one column per level
    present in the group, in level order: its effect (1 for an intercept) in that level's rows,
    0 elsewhere.
    """
    if td.term.group == g:
        return [td.X[r] for r in rows], [list(td.cnames) for _ in rows]
    names = _level_names(design, td, [f for f in td.term.factors if f != g])
    # the (group, level) pairs present, sorted; a row's column is its pair's rank in its group
    pairs, pair_of_row = np.unique(group * td.nlevels + td.codes, return_inverse=True)
    pair_group = pairs // td.nlevels
    starts = np.searchsorted(pair_group, np.arange(len(rows)))
    column = (np.arange(len(pairs)) - starts[pair_group])[pair_of_row]
    level = pairs % td.nlevels
    x = td.X[:, 0]
    mats, colnames = [], []
    for i, r in enumerate(rows):
        stop = starts[i + 1] if i + 1 < len(rows) else len(pairs)
        mat = np.zeros((len(r), stop - starts[i]))
        mat[np.arange(len(r)), column[r]] = x[r]
        mats.append(mat)
        colnames.append(list(names[level[starts[i]:stop]]))
    return mats, colnames


def to_mixedlm(design: Design, reml: bool = True):
    """Return a statsmodels MixedLM on the same rows as the lmer fit (not fitted).

    Built from the course's own arrays with statsmodels' constructor ``MixedLM(endog, exog,
    groups, exog_re=..., exog_vc=VCSpec(...))``: the fixed-effects matrix as lmer uses it (in
    R's column order, without the columns a rank-deficient fixed part drops, named as R names
    them), the rows lme4 keeps, the random effects' columns and grouping factors. It is the
    model ``mixedlm_spec(design).call()`` builds from the formula text (the same likelihood at
    the same parameters; tests/engine/test_smbridge.py), without patsy run once per group for
    each ``vc_formula`` (0.2-0.3 s on the classroom data) and without re-reading the formula,
    which would bring back dropped columns and miss lmer's spellings such as ``factor(sex)``.
    The random effects and variance components are named as ``from_formula`` names them (within
    a group, a variance component's columns come in lme4's level order; patsy sorts text labels
    as Python does: the order of ``random_effects`` may differ, the likelihood does not).
    Without a formula, its ``predict`` takes arrays; ``formula_mixedlm`` gives the model built
    from the printed call, as a student would.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM, VCSpec

    ms = mixedlm_spec(design)
    g, index, n = ms.groups, design.data.index, design.n
    endog = pd.Series(design.y, index=index, name=design.spec.response)
    exog = pd.DataFrame(design.X, index=index, columns=design.xnames)
    groups = np.ones(n, dtype=np.int64) if g == "_one" else design.data[g].to_numpy()
    labels = _sorted_labels(groups, g)
    if ms.re_term is None:  # re_formula "0": no correlated random effects
        exog_re = np.zeros((n, 0))
    else:
        td = design.terms[ms.re_term]
        exog_re = pd.DataFrame(td.X, index=index,
                               columns=[g if c == "(Intercept)" else c for c in td.cnames])
    exog_vc = None
    if ms.vc_terms:
        group, rows = _group_codes(groups, labels)
        names = sorted(ms.vc_terms)  # from_formula's order
        parts = [_vc_matrices(design, design.terms[ms.vc_terms[k]], g, group, rows) for k in names]
        exog_vc = VCSpec(names, [c for _, c in parts], [m for m, _ in parts])
    model = MixedLM(endog, exog, groups, exog_re=exog_re, exog_vc=exog_vc)
    model.reml = reml
    if exog_vc is not None:
        model.data.vcomp_names = model.exog_vc.names  # as from_formula sets it
    return model


def formula_mixedlm(design: Design):
    """Return the model ``mixedlm_spec(design).call()`` builds, not fitted.

    ``smf.mixedlm`` from the formula text, on the rows the lmer fit used. It has a formula
    (``predict`` takes a data frame) and statsmodels' own names (``Intercept``); when lme4
    dropped a column no formula can leave out, it is the array-built ``to_mixedlm`` instead (the
    same model lmer fitted).
    """
    import statsmodels.formula.api as smf

    ms = mixedlm_spec(design)
    if ms.unexpressed or _r_scale_in(ms):  # statsmodels would read scale() as patsy's
        return to_mixedlm(design)
    data = design.data.copy()
    if ms.groups == "_one":
        data["_one"] = 1
    else:
        _sorted_labels(data[ms.groups].to_numpy(), ms.groups)
    return smf.mixedlm(ms.fixed, data, groups=ms.groups, re_formula=ms.re_formula,
                       vc_formula=ms.vc_formula or None)


def statsmodels_loglike(model) -> float:
    """Return statsmodels' log-likelihood (REML or ML, as the model) at mlmcourse's estimates.

    An independent check that both describe the same model: it must equal ``model.loglik``.
    """
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    ms = mixedlm_spec(model.design)
    sm = to_mixedlm(model.design)
    sm.reml = model.REML
    sm.cov_pen = sm.fe_pen = None  # what fit() would set: no penalties, no singular cov_re
    sm._cov_sing = 0
    s2 = model.sigma ** 2
    covs = list(model.covariance_matrices().values())
    cov_re = covs[ms.re_term].to_numpy() / s2 if ms.re_term is not None else np.zeros((0, 0))
    vcomp = np.array([covs[ms.vc_terms[name]].to_numpy()[0, 0] / s2 for name in sm.exog_vc.names])
    params = MixedLMParams.from_components(fe_params=model.fixef.to_numpy(), cov_re=cov_re, vcomp=vcomp)
    return float(sm.loglike(params, profile_fe=False))


def statsmodels_call(formula: str, data: pd.DataFrame, data_name: str = "dat", reml: bool = True) -> str:
    """Return the plain statsmodels call for an lme4 formula (raises CourseError when none exists)."""
    ms = mixedlm_spec(build_design(formula, data))
    if _r_scale_in(ms):
        raise CourseError(
            "In a statsmodels formula, scale(x) is patsy's: it divides by the SD with n over the rows "
            "used, where R's scale() (and lmer() here) divides by the SD with n - 1 over all rows. "
            "For the same model in statsmodels, compute the column first, e.g. dat['ses_z'] = "
            "(dat['ses'] - dat['ses'].mean()) / dat['ses'].std(), and name it in the formula.")
    return ms.call(data_name, reml)


def _r_scale_in(ms: MixedLMSpec) -> bool:
    """Whether the formulas of ``ms`` call scale() (R's in lmer(), patsy's in statsmodels)."""
    texts = [ms.fixed, ms.re_formula or "", *(ms.vc_formula or {}).values()]
    return any(scale_calls(t) for t in texts)
