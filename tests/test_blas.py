"""petnet.blas.one_blas_thread: NumPy's BLAS on one thread inside, the previous count restored after
(also as a decorator and when the body raises)."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from petnet.blas import one_blas_thread


def blas_threads() -> set[int]:
    np.ones((2, 2)) @ np.ones((2, 2))           # NumPy's BLAS loaded
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_one_thread_inside_and_restored_after():
    with threadpool_limits(limits=2, user_api="blas"):
        assert blas_threads() == {2}
        with one_blas_thread():
            assert blas_threads() == {1}
        assert blas_threads() == {2}

        @one_blas_thread()
        def inside():
            return blas_threads()

        assert inside() == {1} and inside() == {1} and blas_threads() == {2}
        with pytest.raises(ZeroDivisionError), one_blas_thread():
            1 / 0
        assert blas_threads() == {2}
