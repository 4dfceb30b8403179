"""engine/threads.py: a decorated function runs with BLAS on one thread, restored afterwards."""
from __future__ import annotations

import numpy as np
import scipy.linalg  # noqa: F401  (scipy's own BLAS is loaded too)
from threadpoolctl import threadpool_info, threadpool_limits

from mlmcourse.engine.threads import one_blas_thread


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_one_blas_thread_inside_and_restored_after_every_call():
    """Twice (the libraries are found once): one thread inside, the caller's setting after."""
    seen = []

    @one_blas_thread
    def inside(x):
        seen.append(_blas_threads())
        return x @ x

    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        for _ in range(2):
            np.testing.assert_array_equal(inside(np.eye(3)), np.eye(3))
            assert _blas_threads() == before
    assert seen and all(threads and set(threads) == {1} for threads in seen)
