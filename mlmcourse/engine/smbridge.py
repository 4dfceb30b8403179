"""The same model in plain statsmodels: ``MixedLM`` with groups / re_formula / vc_formula.

statsmodels takes ONE grouping factor (``groups``); random effects of that factor go in
``re_formula`` (correlated) and anything nested in it goes in ``vc_formula`` (independent
variance components). Crossed factors need a single all-ones group. Some lme4 formulas have no
statsmodels equivalent: a correlated random slope on an inner (nested or crossed) factor.
"""
from __future__ import annotations

import keyword
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import CourseError
from .design import Design, build_design


@dataclass
class MixedLMSpec:
    fixed: str                     # "mathkind ~ ses"
    groups: str                    # column name, or "_one" for crossed factors
    re_formula: str | None
    vc_formula: dict[str, str] = field(default_factory=dict)
    re_term: int | None = None                                 # design term behind re_formula
    vc_terms: dict[str, int] = field(default_factory=dict)     # vc name -> design term

    def call(self, data_name: str = "dat", reml: bool = True) -> str:
        """The statsmodels code a student would write."""
        args = [repr(self.fixed), data_name, f"groups={self.groups!r}"]
        if self.re_formula is not None:
            args.append(f"re_formula={self.re_formula!r}")
        if self.vc_formula:
            args.append("vc_formula={" + ", ".join(f"{k!r}: {v!r}" for k, v in self.vc_formula.items()) + "}")
        prefix = f'{data_name}["_one"] = 1\n' if self.groups == "_one" else ""
        return prefix + "smf.mixedlm(" + ", ".join(args) + f").fit(reml={reml})"


def _col(name: str) -> str:
    """A column as patsy must see it: Q("class") for keywords and odd names."""
    return name if name.isidentifier() and not keyword.iskeyword(name) else f'Q("{name}")'


def _cannot(term_label: str, why: str) -> CourseError:
    return CourseError(
        f"statsmodels MixedLM cannot express the random term {term_label}: {why}. "
        "mlmcourse.lmer fits it (its own lme4-style engine); there is no plain statsmodels "
        "equivalent to show or to compare with."
    )


def _nested_in(design: Design, factors: tuple[str, ...], g: str) -> bool:
    """True when every level of ``factors`` lies within one level of ``g`` in the data."""
    if g in factors:
        return True
    return bool(design.data.groupby(list(factors))[g].nunique().max() == 1)


def _outer_factor(design: Design) -> str | None:
    """The factor statsmodels can use as ``groups``: one that has a term of its own and in
    which every other term's factor is nested (in the data: class ids unique across schools
    nest classrooms in schools even when the formula says (1|schoolid) + (1|classid))."""
    candidates = sorted({td.term.factors[0] for td in design.terms if len(td.term.factors) == 1},
                        key=lambda f: design.data[f].nunique())
    for g in candidates:
        if all(_nested_in(design, td.term.factors, g) for td in design.terms):
            return g
    return None


def mixedlm_spec(design: Design) -> MixedLMSpec:
    """Translate a design's random terms into statsmodels' groups / re_formula / vc_formula."""
    spec = design.spec
    fixed = f"{spec.response} ~ {spec.fixed}"
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
        return MixedLMSpec(fixed=fixed, groups=g, re_formula=re_formula, vc_formula=vc,
                           re_term=index[id(main)], vc_terms=vc_terms)
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
    return MixedLMSpec(fixed=fixed, groups="_one", re_formula="0", vc_formula=vc, vc_terms=vc_terms)


def to_mixedlm(design: Design, reml: bool = True):
    """A statsmodels MixedLM on the same rows as the lmer fit (not fitted)."""
    import statsmodels.formula.api as smf

    ms = mixedlm_spec(design)
    data = design.data.copy()
    if ms.groups == "_one":
        data["_one"] = 1
    return smf.mixedlm(ms.fixed, data, groups=ms.groups, re_formula=ms.re_formula,
                       vc_formula=ms.vc_formula or None)


def statsmodels_loglike(model) -> float:
    """statsmodels' log-likelihood (REML or ML, as the model) at mlmcourse's estimates.

    An independent check that both describe the same model: it must equal ``model.loglik``."""
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
    """The plain statsmodels call for an lme4 formula (raises CourseError when none exists)."""
    return mixedlm_spec(build_design(formula, data)).call(data_name, reml)
