"""Run the small dense linear algebra of a fit on one BLAS thread.

The matrices in a fit are small (p x p, q x p); a multi-threaded BLAS spends more time
synchronising than computing, and on a busy 2-core machine a 419 x 419 Cholesky factorisation
took 46 ms with two OpenBLAS threads against 3 ms with one (measured here).

Finding the loaded BLAS libraries (threadpoolctl walks every shared library of the process)
takes a millisecond or more, longer than a small fit's linear algebra: it is done once, at the
first call, when numpy's and scipy's BLAS are loaded (engine/pls.py imports both).
"""
from __future__ import annotations

import functools

from threadpoolctl import ThreadpoolController


@functools.cache
def _controller() -> ThreadpoolController:
    """Find the process's BLAS libraries (once)."""
    return ThreadpoolController()


def one_blas_thread(fn):
    """Wrap ``fn`` so that it runs with BLAS limited to one thread (restored afterwards)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _controller().limit(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper
