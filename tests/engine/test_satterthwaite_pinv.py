"""inference.vcov_varpar: lmerTest's pseudo-inverse of the variance parameters' Hessian
(as_lmerModLT: eigenvalues not above 1e-8 are dropped, with lmerTest's warnings in its words),
not numpy's pinv, whose cutoff (1e-15 of the largest) would invert a 1e-10 eigenvalue."""
import numpy as np

from mlmcourse.engine.inference import EIGEN_TOL, vcov_varpar


def rotated(values):
    Q, _ = np.linalg.qr(np.arange(1.0, 1.0 + len(values) ** 2).reshape(len(values), -1) ** 1.5)
    return Q @ np.diag(values) @ Q.T, Q


def test_eigenvalues_near_zero_are_dropped_as_lmertest_drops_them():
    H, Q = rotated([4.0, 1.0, 1e-10])
    A, notes = vcov_varpar(H)
    want = 2.0 * Q[:, :2] @ np.diag([1 / 4.0, 1.0]) @ Q[:, :2].T
    np.testing.assert_allclose(A, want, atol=1e-9)
    assert np.abs(A).max() < 10                          # numpy's pinv gives entries near 2e10
    assert np.abs(2 * np.linalg.pinv(H)).max() > 1e9
    assert notes == {"zero": "Model may not have converged with 1 eigenvalue close to zero: 1.0e-10"}
    assert EIGEN_TOL == 1e-8


def test_negative_eigenvalues_are_dropped_with_lmertests_warning():
    H, Q = rotated([3.0, -2e-3, -5e-2])
    A, notes = vcov_varpar(H)
    np.testing.assert_allclose(A, 2.0 / 3.0 * np.outer(Q[:, 0], Q[:, 0]), atol=1e-12)
    assert notes == {"negative": "Model failed to converge with 2 negative eigenvalues: -2.0e-03 -5.0e-02"}


def test_a_positive_definite_hessian_is_inverted():
    H, _ = rotated([5.0, 2.0, 0.5])
    A, notes = vcov_varpar(H)
    np.testing.assert_allclose(A, 2.0 * np.linalg.inv(H), rtol=1e-12)
    assert notes == {}
