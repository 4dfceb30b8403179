"""Run the small dense linear algebra of a fit on one BLAS thread.

The matrices in a fit are small (p x p, q x p); a multi-threaded BLAS spends more time
synchronising than computing, and on a busy 2-core machine a 419 x 419 Cholesky factorisation
took 46 ms with two OpenBLAS threads against 3 ms with one (measured here).
"""
from __future__ import annotations

import functools

from threadpoolctl import threadpool_limits


def one_blas_thread(fn):
    """Wrap ``fn`` so that it runs with BLAS limited to one thread (restored afterwards)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper
