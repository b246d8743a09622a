"""One BLAS thread for the demos whose numbers the docs print.

NumPy's matrix products (OpenBLAS) split the work among threads, and how they split it depends on
the number of threads: the float32 sums then add in another order and differ in the last bits.
A chaotic computation -- a network trained at the edge of its plateau -- turns those bits into
other digits: ``petnet nn vanishing`` gave ReLU a test accuracy of 0.3030 with one BLAS thread and
0.2970 with two, ``petnet nn dropout`` differed from the second epoch on.

:func:`one_blas_thread` runs a computation with NumPy's BLAS on one thread (threadpoolctl, the
same switch scikit-learn uses), so a demo prints the same digits whatever ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` or the number of cores say. The demos it wraps are small (seconds); the
training commands (``petnet nn mnist``, ``petnet vgg mnist``) keep every thread. The digits are
those of this machine's CPU: OpenBLAS picks its kernels by CPU model, and another model may add
in another order again.
"""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def one_blas_thread():
    """Context manager (and decorator): NumPy's BLAS limited to one thread inside, restored after."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):
        yield
