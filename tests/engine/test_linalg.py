"""engine/linalg/: every strategy for the Cholesky of A = Lambda' Z'Z Lambda + I agrees with numpy.

Log-determinant, solves and R' A^-1 R against a dense numpy reference on random designs: nested,
crossed and random-slope terms (2 x 2 and 3 x 3), random theta; the scalar strategy agrees with
the sparse one; plans are immutable. The profiled criterion agrees with one computed from scratch
in n-space.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from mlmcourse.engine.linalg import ThetaLayout, build_plan
from mlmcourse.engine.linalg import schurmap as schurmap_mod
from mlmcourse.engine.linalg.complement import SparseLU
from mlmcourse.engine.linalg.pair import PairPlan
from mlmcourse.engine.linalg.plan import choose_strategy
from mlmcourse.engine.linalg.sparse import SparseCholesky, SparsePlan

RTOL = 1e-9
SCALAR_DESIGNS = ["one", "nested", "nested3", "crossed", "crossed3", "uncorrelated", "slope_first"]
BLOCK_DESIGNS = ["slope", "slope3", "slope_nested", "slope_crossed", "slope_crossed_vec"]


def _codes(rng, n, nlevels):
    """Level codes with every level used at least once, in random order."""
    return rng.permutation(np.resize(np.arange(nlevels), n))


def random_terms(rng, n: int, design: str):
    """Draw [(codes, values (n x p))] for a design family, first term with the most levels."""
    return (_scalar_terms if design in SCALAR_DESIGNS else _slope_terms)(rng, n, design)


def _scalar_terms(rng, n: int, design: str):
    one = np.ones((n, 1))
    if design == "one":                      # (1 | g)
        return [(_codes(rng, n, 15), one)]
    if design == "nested":                   # (1 | school/class)
        cls = _codes(rng, n, 24)
        return [(cls, one), (cls // 4, one)]
    if design == "nested3":                  # (1 | a/b/c)
        c = _codes(rng, n, 36)
        return [(c, one), (c // 3, one), (c // 12, one)]
    if design == "crossed":                  # (1 | g) + (1 | h)
        return [(_codes(rng, n, 20), one), (_codes(rng, n, 7), one)]
    if design == "crossed3":                 # (1 | g) + (1 | h) + (1 | k)
        return [(_codes(rng, n, 20), one), (_codes(rng, n, 9), one), (_codes(rng, n, 5), one)]
    if design == "uncorrelated":             # (x || g): two scalar terms on one factor
        g = _codes(rng, n, 12)
        return [(g, one), (g, rng.normal(size=(n, 1)))]
    if design == "slope_first":              # (0 + x | g) + (1 | h): the first term's Z'Z
        return [(_codes(rng, n, 30), rng.normal(size=(n, 1))), (_codes(rng, n, 8), one)]  # not counts
    raise ValueError(design)


def _slope_terms(rng, n: int, design: str):
    one = np.ones((n, 1))
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    if design == "slope":                    # (1 + x | g)
        return [(_codes(rng, n, 14), x)]
    if design == "slope3":                   # (1 + x + z | g)
        return [(_codes(rng, n, 10), np.column_stack([x, rng.normal(size=n)]))]
    if design == "slope_nested":             # (1 + x | school/class)
        cls = _codes(rng, n, 24)
        return [(cls, x), (cls // 4, x)]
    if design == "slope_crossed":            # (1 + x | g) + (1 | h)
        return [(_codes(rng, n, 16), x), (_codes(rng, n, 6), one)]
    if design == "slope_crossed_vec":        # (1 + x | g) + (1 + x | h)
        return [(_codes(rng, n, 16), x), (_codes(rng, n, 6), x)]
    raise ValueError(design)


def build(terms):
    """Z (lme4's layout: term by term, level by level, effect by effect) and the layout."""
    n = len(terms[0][0])
    rows, cols, vals, layout, offset = [], [], [], [], 0
    for codes, v in terms:
        nl, p = int(codes.max()) + 1, v.shape[1]
        rows.append(np.repeat(np.arange(n), p))
        cols.append((offset + codes[:, None] * p + np.arange(p)[None, :]).ravel())
        vals.append(v.ravel())
        layout.append((nl, p))
        offset += nl * p
    Z = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, offset))
    return Z, layout


def layout_of(layout) -> ThetaLayout:
    """Theta's layout for terms of the given sizes [(nlevels, p)], in Z's column order."""
    terms, offset = [], 0
    for nl, p in layout:
        terms.append(SimpleNamespace(nlevels=nl, p=p, offset=offset))
        offset += nl * p
    return ThetaLayout(terms)


def theta_of(Ts) -> np.ndarray:
    """Theta from each term's T: the lower triangles, column by column (lme4's order)."""
    return np.concatenate([T.T[np.triu_indices(T.shape[0])] for T in Ts])


def random_T(rng, p):
    """Draw a lower-triangular T with a positive diagonal."""
    T = np.tril(rng.normal(size=(p, p)))
    T[np.diag_indices(p)] = rng.uniform(0.05, 3.0, size=p)
    return T


def lam_of(Ts, layout):
    """Build Lambda from each term's T."""
    return sp.block_diag([sp.kron(sp.identity(nl), sp.csr_matrix(T)) for T, (nl, _) in zip(Ts, layout)],
                         format="csc")


def reference(ZtZ, lam):
    """Return the dense A and its log-determinant (numpy)."""
    A = (lam.T @ ZtZ @ lam).toarray() + np.eye(ZtZ.shape[0])
    return A, np.linalg.slogdet(A)[1]


def check_against(fac, A, logdet, lam, rng, B=None):
    """Compare a factorisation with numpy on A: log-determinant, solves, grams, Lambda' R."""
    q = A.shape[0]
    R = rng.normal(size=(q, 3))
    b = rng.normal(size=q)
    if B is not None:       # the attached right-hand side: B' Lambda A^-1 Lambda' B
        LB = lam.T @ B
        np.testing.assert_allclose(fac.gram_rhs(), LB.T @ np.linalg.solve(A, LB), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fac.logdet, logdet, rtol=RTOL)
    np.testing.assert_allclose(fac.solve(R), np.linalg.solve(A, R), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fac.solve(b), np.linalg.solve(A, b), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fac.gram(R), R.T @ np.linalg.solve(A, R), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fac.lam_t(R), lam.T @ R, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("design", SCALAR_DESIGNS)
@pytest.mark.parametrize("schur", ["chosen", "sparse"])
def test_scalar_plan_matches_dense_and_sparse_lu(design, seed, schur, monkeypatch):
    """The scalar strategy agrees with numpy and with sparse LU, dense or sparse S."""
    if schur == "sparse":       # force the sparse-LU Schur complement where a dense one is chosen
        monkeypatch.setattr(schurmap_mod, "DENSE_ALWAYS", 0)
        monkeypatch.setattr(schurmap_mod, "DENSE_MAX", 0)
    rng = np.random.default_rng(seed)
    Z, layout = build(random_terms(rng, 150, design))
    ZtZ = (Z.T @ Z).tocsc()
    Ts = [random_T(rng, 1) for _ in layout]
    if seed == 0:
        Ts[-1][0, 0] = 0.0      # a variance on the boundary (singular fit)
    lam = lam_of(Ts, layout)
    A, logdet = reference(ZtZ, lam)
    B = rng.normal(size=(A.shape[0], 3))
    st = build_plan(ZtZ, layout_of(layout), B, "scalar")
    if schur == "sparse" and design.startswith("crossed"):
        assert st.kind == "sparse"
    assert st.pooled == (design != "slope_first")   # levels pooled by size unless d_l vary
    fac = st.cholesky(theta_of(Ts))
    check_against(fac, A, logdet, lam, rng, B)
    lu = SparseLU(sp.csc_matrix(A))
    np.testing.assert_allclose(fac.logdet, lu.logdet, rtol=RTOL)
    R = rng.normal(size=(A.shape[0], 2))
    np.testing.assert_allclose(fac.solve(R), lu.solve(R), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("design", BLOCK_DESIGNS + SCALAR_DESIGNS)
@pytest.mark.parametrize("schur", ["chosen", "sparse"])
def test_block_plan_matches_dense(design, seed, schur, monkeypatch):
    """The block and sparse strategies agree with numpy on every design."""
    if schur == "sparse":
        monkeypatch.setattr(schurmap_mod, "DENSE_ALWAYS", 0)
        monkeypatch.setattr(schurmap_mod, "DENSE_MAX", 0)
    rng = np.random.default_rng(100 + seed)
    Z, layout = build(random_terms(rng, 160, design))
    ZtZ = (Z.T @ Z).tocsc()
    Ts = [random_T(rng, p) for _, p in layout]
    lam = lam_of(Ts, layout)
    A, logdet = reference(ZtZ, lam)
    B = rng.normal(size=(A.shape[0], 3))
    bt = build_plan(ZtZ, layout_of(layout), B, "block")
    if schur == "sparse" and "crossed" in design:
        assert bt.kind == "sparse"
    check_against(bt.cholesky(theta_of(Ts)), A, logdet, lam, rng, B)
    check_against(SparsePlan(ZtZ, layout_of(layout), B).cholesky(theta_of(Ts)), A, logdet, lam, rng, B)


# which strategies serve each design ("auto" is the one build_plan chooses)
STRATEGY_DESIGNS = {"one": ["scalar", "block", "sparse"], "nested": ["scalar", "block", "sparse"],
                    "crossed": ["scalar", "block", "sparse"],
                    "slope": ["pair", "block", "sparse"], "slope3": ["block", "sparse"]}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("design", sorted(STRATEGY_DESIGNS))
def test_every_strategy_matches_a_dense_numpy_cholesky(design, seed):
    """Each strategy's log-determinant and solution against numpy's Cholesky of the dense A."""
    rng = np.random.default_rng(300 + seed)
    Z, layout = build(random_terms(rng, 120, design))
    ZtZ = (Z.T @ Z).tocsr()
    Ts = [random_T(rng, p) for _, p in layout]
    lam = lam_of(Ts, layout).toarray()
    A = lam.T @ ZtZ.toarray() @ lam + np.eye(ZtZ.shape[0])
    L = np.linalg.cholesky(A)
    logdet = 2.0 * np.log(np.diag(L)).sum()
    b = rng.normal(size=A.shape[0])
    x = np.linalg.solve(L.T, np.linalg.solve(L, b))
    B = rng.normal(size=(A.shape[0], 2))
    LB = lam.T @ B
    assert choose_strategy(layout_of(layout)) == STRATEGY_DESIGNS[design][0]
    for strategy in ["auto", *STRATEGY_DESIGNS[design]]:
        chol = build_plan(ZtZ, layout_of(layout), B, strategy).cholesky(theta_of(Ts))
        np.testing.assert_allclose(chol.logdet, logdet, rtol=1e-10, err_msg=strategy)
        np.testing.assert_allclose(chol.solve(b), x, rtol=1e-8, atol=1e-10, err_msg=strategy)
        np.testing.assert_allclose(chol.gram_rhs(), LB.T @ np.linalg.solve(A, LB), rtol=1e-8,
                                   atol=1e-10, err_msg=strategy)


def test_a_pair_plan_is_only_for_one_term_with_two_effects():
    """A pair plan refuses terms it cannot factorise."""
    rng = np.random.default_rng(1)
    Z, layout = build(random_terms(rng, 60, "slope3"))
    with pytest.raises(ValueError):
        PairPlan((Z.T @ Z).tocsr(), layout_of(layout), np.zeros((Z.shape[1], 1)))


@pytest.mark.parametrize("design", sorted(STRATEGY_DESIGNS))
def test_plans_and_layouts_are_immutable(design):
    """No attribute of a plan (or of theta's layout) can be set or deleted after construction.

    Another right-hand side gives a new plan and leaves the old one as it was.
    """
    rng = np.random.default_rng(2)
    Z, layout = build(random_terms(rng, 80, design))
    ZtZ = (Z.T @ Z).tocsr()
    B = rng.normal(size=(Z.shape[1], 2))
    theta = theta_of([random_T(rng, p) for _, p in layout])
    lay = layout_of(layout)
    with pytest.raises(AttributeError):
        lay.ntheta = 0
    for strategy in STRATEGY_DESIGNS[design]:
        plan = build_plan(ZtZ, lay, B, strategy)
        before = plan.cholesky(theta).gram_rhs()
        for name in list(vars(plan)):
            with pytest.raises(AttributeError):
                setattr(plan, name, None)
            with pytest.raises(AttributeError):
                delattr(plan, name)
        with pytest.raises(AttributeError):
            plan.attach = None
        other = plan.with_rhs(2.0 * B)
        assert other is not plan and type(other) is type(plan)
        np.testing.assert_allclose(other.cholesky(theta).gram_rhs(), 4.0 * before, rtol=1e-12)
        np.testing.assert_array_equal(plan.cholesky(theta).gram_rhs(), before)


def test_schur_kinds_are_the_expected_ones():
    """Each design gets the Schur complement it should: none, diagonal, blocks or dense."""
    rng = np.random.default_rng(7)
    kinds = {}
    for design in ["one", "nested", "crossed", "slope", "slope_nested", "slope_crossed"]:
        Z, layout = build(random_terms(rng, 150, design))
        ZtZ = (Z.T @ Z).tocsc()
        B = np.zeros((ZtZ.shape[0], 1))
        f = (build_plan(ZtZ, layout_of(layout), B, "scalar") if all(p == 1 for _, p in layout)
             else build_plan(ZtZ, layout_of(layout), B, "block"))
        kinds[design] = f.kind
    assert kinds == {"one": "none", "nested": "diag", "crossed": "dense", "slope": "none",
                     "slope_nested": "blocks", "slope_crossed": "dense"}


@pytest.mark.parametrize("design", ["nested", "crossed", "slope", "slope_crossed", "uncorrelated"])
@pytest.mark.parametrize("reml", [True, False])
def test_profiled_criterion_matches_n_space_computation(design, reml):
    """The profiled criterion against the PLS problem solved from scratch with dense matrices.

    r^2 = ||y - X beta - Z Lambda u||^2 + ||u||^2 (as lme4 computes it), chosen and sparse strategy.
    """
    from mlmcourse.engine.pls import ProfiledDeviance
    rng = np.random.default_rng(11)
    n = 150
    terms = random_terms(rng, n, design)
    Z, layout = build(terms)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n)])
    y = 3.0 + X @ [0, 1.0, -0.5] + Z @ rng.normal(size=Z.shape[1]) + rng.normal(size=n)
    td = []
    offset = 0
    for (codes, _), (nl, p) in zip(terms, layout):
        td.append(SimpleNamespace(p=p, nlevels=nl, q=nl * p, offset=offset, codes=codes,
                                  cnames=["(Intercept)"] if p == 1 else ["(Intercept)", "x"][:p]))
        offset += nl * p
    design_ns = SimpleNamespace(Z=Z, X=X, y=y, terms=td)
    dev = ProfiledDeviance(design_ns)
    # theta: each T's lower triangle, column by column (lme4's order)
    theta = np.concatenate([random_T(rng, p).T[np.triu_indices(p)] for _, p in layout])
    lam = dev.lambda_of(theta).toarray()
    ZL = Z.toarray() @ lam
    q, p = ZL.shape[1], X.shape[1]
    M = np.block([[ZL.T @ ZL + np.eye(q), ZL.T @ X], [X.T @ ZL, X.T @ X]])
    sol = np.linalg.solve(M, np.concatenate([ZL.T @ y, X.T @ y]))
    u, beta = sol[:q], sol[q:]
    r2 = np.sum((y - X @ beta - ZL @ u) ** 2) + u @ u
    ldA = np.linalg.slogdet(ZL.T @ ZL + np.eye(q))[1]
    RX = X.T @ X - X.T @ ZL @ np.linalg.solve(ZL.T @ ZL + np.eye(q), ZL.T @ X)
    if reml:
        want = ldA + np.linalg.slogdet(RX)[1] + (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p)))
    else:
        want = ldA + n * (1 + np.log(2 * np.pi * r2 / n))
    for strategy in ["auto", "sparse"]:
        dev = ProfiledDeviance(design_ns, strategy=strategy)
        np.testing.assert_allclose(dev.profiled(theta, reml), want, rtol=1e-12)
        s = dev.solve(theta)
        np.testing.assert_allclose(s.beta, beta, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(s.u, u, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(s.RXtRX, RX, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(s.r2, r2, rtol=1e-11)


def test_large_crossed_design_uses_the_sorted_pattern_and_sparse_schur():
    """q2 > 4096: S's pattern is found by sorting and S goes to sparse LU.

    No dense mark array; S, too large to be factorised densely, is checked against the sparse LU
    of the whole of A.
    """
    rng = np.random.default_rng(5)
    n = 14_000
    one = np.ones((n, 1))
    Z, layout = build([(_codes(rng, n, 6_000), one), (_codes(rng, n, 4_200), one)])
    ZtZ = (Z.T @ Z).tocsr()
    lam = np.concatenate([np.full(6_000, 0.7), np.full(4_200, 1.3)])
    B = rng.normal(size=(ZtZ.shape[0], 2))
    st = build_plan(ZtZ, layout_of(layout), B, "scalar")
    assert st.q2 == 4_200 and st.kind == "sparse"
    fac = st.cholesky(np.array([0.7, 1.3]))
    ref = SparseCholesky(ZtZ, sp.diags(lam), B)
    np.testing.assert_allclose(fac.logdet, ref.logdet, rtol=1e-10)
    np.testing.assert_allclose(fac.gram_rhs(), ref.gram_rhs(), rtol=1e-9)
    A = sp.diags(lam) @ ZtZ @ sp.diags(lam) + sp.identity(ZtZ.shape[0])
    x = fac.solve(B)
    assert np.max(np.abs(A @ x - B)) < 1e-9 * np.max(np.abs(B))
